package main

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/gitfs"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/outdir"
	"github.com/keyform/keyform/schema"
	"github.com/keyform/keyform/seal"
)

// This file is how commands get what they work on: the policy (loaded,
// edited in memory, or rendered), and the keys, publishers and targets in
// it, each with the same message when it is missing.

// loadPolicy loads the policy in the policy directory and prints its
// diagnostics. Invalid policies end the command with exit 2.
func loadPolicy(e *cli.Env, opts schema.Options) (*policy.Policy, error) {
	res := schema.LoadAs(e.Path("."), ".", loadOptions(e, opts))
	if len(res.Diags) > 0 {
		res.WriteDiagnostics(e.Stderr, 0, e.Colour)
	}
	if res.HasErrors() {
		return nil, cli.ErrInvalid
	}
	return res.Policy, nil
}

// loadOptions completes the options of every policy load of the command
// (TestLoadsUseLoadOptions holds them to it): recipients are checked with
// seal's parser, so a policy that validates can always be sealed, and
// expiry is judged against env.now.
func loadOptions(e *cli.Env, opts schema.Options) schema.Options {
	if opts.Now.IsZero() {
		opts.Now = e.Now()
	}
	opts.CheckRecipient = checkRecipient
	return opts
}

func checkRecipient(s string) error {
	_, err := seal.ParseRecipient(s)
	return err
}

// workTree returns the root of the git work tree holding dir (absolute),
// or "".
func workTree(dir string) string { return gitfs.FindWorkTree(dir) }

// policyDir returns the policy directory as an absolute path with symlinks
// resolved (macOS's /tmp, say), for comparing paths with it.
func policyDir(e *cli.Env) (string, error) {
	abs, err := filepath.Abs(e.Path("."))
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return abs, nil
}

// policySource names the policy directory in generated headers
// (gitfs.InWorkTree).
func policySource(e *cli.Env) string {
	dir, err := policyDir(e)
	if err != nil {
		return "."
	}
	return gitfs.InWorkTree(dir)
}

// renderTree renders everything the policy renders under the output
// directory: -o, else the policy's output_dir.
func renderTree(e *cli.Env, p *policy.Policy, outDir string) (*outdir.Tree, error) {
	return outdir.Render(e.Dir, p, policySource(e), outDir)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// How each command judges expiry (README, "Expiry"; schema.Expiry):
// validate, check and plan's head load with the zero Options, where an
// expired active key is an error, so that CI forces the rotation; render
// loads with renderOptions; rotate, retire and plan's base with
// ExpiryIgnored; every other command loads with involvedOptions and warns
// with warnExpired about the keys it works on, so that a key passing its
// date changes nothing for commands that do not involve it.
var (
	// editOptions loads a policy for rotate and retire: these commands are
	// how an expired key is fixed.
	editOptions = schema.Options{AllowPending: true, Expiry: schema.ExpiryIgnored}
	// involvedOptions loads a policy without judging expiry; the command
	// then calls warnExpired with the keys it involves.
	involvedOptions = schema.Options{Expiry: schema.ExpiryIgnored}
)

// warnExpired warns about each expired key of ks: the keys a command that
// loaded with involvedOptions works on (apply and verify: the target's
// keys). The key stays trusted; the warning says what to do.
func warnExpired(e *cli.Env, ks ...*policy.Key) {
	for _, k := range policy.ExpiredKeys(ks, e.Now()) {
		e.Warnf("key %s expired on %s; machines keep trusting it until it is retired", k.Label, k.Expires.Format(time.DateOnly))
		e.Hintf("rotate it (keyform rotate %s), or extend expires if that is the policy", k.Label)
	}
}

// newEditSet starts an edit of the policy (schema.EditSet).
func newEditSet(e *cli.Env) (*schema.EditSet, error) {
	opts := editOptions
	abs, err := filepath.Abs(e.Path("."))
	if err != nil {
		return nil, err
	}
	opts.AbsDir, opts.WorkTree = abs, workTree(abs)
	return schema.NewEditSet(abs, loadOptions(e, opts)), nil
}

// loadEdited loads the edited policy, printing its diagnostics if it does
// not load.
func loadEdited(e *cli.Env, es *schema.EditSet) (*policy.Policy, error) {
	res := es.Load()
	if res.HasErrors() {
		res.WriteDiagnostics(e.Stderr, 0, e.Colour)
		return nil, hint.Wrap(errors.New("the edited policy does not validate, so nothing was written"),
			"fix what the diagnostics above point at, or report a keyform bug if they are about keyform's own edit")
	}
	return res.Policy, nil
}
