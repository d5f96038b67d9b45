package main

import (
	"path/filepath"
	"time"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/gitfs"
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

// The expiry each command judges (schema.EditOptions,
// schema.InvolvedOptions): the commands that load with involvedOptions
// then warn with warnExpired about the keys they work on.
var (
	editOptions     = schema.EditOptions
	involvedOptions = schema.InvolvedOptions
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
	return schema.EditDir(e.Path("."), loadOptions(e, editOptions))
}

// loadEdited loads the edited policy, printing its diagnostics if it does
// not load.
func loadEdited(e *cli.Env, es *schema.EditSet) (*policy.Policy, error) {
	return es.Edited(e.Stderr, e.Colour)
}
