package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
)

func applyCommand() *command {
	return &command{
		name:  "apply",
		args:  "TARGET [--file PATH] [--dry-run] [--backup] [--restart]",
		short: "patch a nixconf target's nix.conf to trust exactly the policy's keys",
		long: `Edits the nix.conf of a nixconf target (its path, or --file) so that Nix
trusts the target's active keys and none of the policy's retired keys, and uses
the substituters of its catalogs. Nothing else in the file changes: missing
keys are appended to keyform's block ("# Managed by keyform (target ...)"),
or to your last extra-trusted-public-keys line, or to a new block at the end;
retired keys are removed wherever they are. Keys the policy does not name
are never removed.

The file is replaced atomically (same directory, fsync, rename) with its mode,
owner and group, under a lock (PATH.keyform.lock) so that concurrent applies
take turns. keyform refuses a file that is a symlink into the Nix store
(NixOS and nix-darwin generate it: use a nixos or darwin target), that is not
a regular file, or that Nix would reject.

--dry-run prints the diff and exits 1 if the file would change, 0 if not.
After a change, apply prints the command that makes the Nix daemon read the
file again; --restart runs it.`,
		setup: func(fs *flag.FlagSet) runFunc {
			var o applyOpts
			fs.StringVar(&o.file, "file", "", "patch `path` instead of the target's path")
			fs.BoolVar(&o.dryRun, "dry-run", false, "print the diff; exit 1 if the file would change")
			fs.BoolVar(&o.backup, "backup", false, "keep the previous file as PATH.bak")
			fs.BoolVar(&o.restart, "restart", false, "restart the Nix daemon after a change")
			return func(e *env, args []string) error { return runApply(e, o, args) }
		},
	}
}

type applyOpts struct {
	file                    string
	dryRun, backup, restart bool
}

// host describes this machine to nixconf, through env's test seams.
func host(e *env) nixconf.Host {
	h := nixconf.LocalHost()
	h.GOOS, h.EUID = e.sys.goos, e.sys.geteuid()
	h.Run = func(argv []string) error { return e.sys.runCommand(e, argv) }
	return h
}

func runApply(e *env, o applyOpts, args []string) error {
	if len(args) != 1 {
		return usagef("apply needs exactly one TARGET, for example nixconf.ci_runners")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	t, err := findTarget(p, args[0])
	if err != nil {
		return err
	}
	if t.Kind != policy.NixConf {
		return withHint(fmt.Errorf("%s is a %s target; keyform apply only edits nix.conf, for nixconf targets", t.ID(), t.Kind), "%s", rolloutHint(t))
	}
	if err := checkPublicKeys(t); err != nil {
		return err
	}
	path := t.Path
	if o.file != "" {
		path = e.path(o.file)
	}
	h := host(e)
	real, err := h.CheckConfFile(path)
	if err != nil {
		return err
	}
	if real != path {
		e.printf("%s is a symlink to %s; editing %s", path, real, real)
	}
	c, err := h.OpenConf(path, real, !o.dryRun)
	if err != nil {
		return err
	}
	defer c.Close()
	plan, err := nixconf.PlanApply(c, wantOf(t), os.ReadFile)
	if err != nil {
		return err
	}
	if err := printPlanProblems(e, plan); err != nil {
		return err
	}
	if !plan.Changed() {
		fmt.Fprintf(e.stdout, "%s already gives %s what the policy says; no change\n", path, t.ID())
		return nil
	}
	if o.dryRun {
		e.stdout.Write(diff.Diff(path, plan.Old, path+" (keyform apply)", plan.New))
		return errDiffers
	}
	time.Sleep(e.sys.applyPause)
	backup, err := c.Write(plan.New, o.backup)
	if err != nil {
		return err
	}
	io.WriteString(e.stdout, plan.Report())
	if backup != "" {
		fmt.Fprintf(e.stdout, "previous version kept in %s\n", backup)
	}
	r := h.PlanRestart(path)
	if r.UserFile {
		e.notef("%s is a user's file; the Nix daemon ignores trusted-public-keys from it unless that user is in trusted-users", path)
	}
	return r.Advise(e.stdout, o.restart)
}

// printPlanProblems prints why apply refuses the plan (and fails), or the
// notes and warnings it writes anyway.
func printPlanProblems(e *env, plan *nixconf.ApplyPlan) error {
	if plan.Refused() {
		for _, c := range plan.Change.Conflicts {
			e.printf("%s", c)
			if c.Hint != "" {
				e.hintf("%s", c.Hint)
			}
		}
		e.printf("%s not changed: it would not give %s the trust the policy says", plan.Path, plan.Want.Target)
		return errInvalid
	}
	for _, n := range plan.Change.Notes {
		e.notef("%s", n)
	}
	for _, w := range plan.Warnings {
		e.warnf("%s", w.Msg)
		if w.Hint != "" {
			e.hintf("%s", w.Hint)
		}
	}
	return nil
}

// wantOf is what the target needs from a nix.conf, with the policy's
// labels for reports.
func wantOf(t *policy.Target) nixconf.Want {
	w := nixconf.Want{Target: t.ID(), Substituters: t.Substituters, Labels: map[string]string{}}
	for _, k := range t.Keys {
		w.Keys = append(w.Keys, k.PublicKey)
		w.Labels[k.PublicKey] = k.Label
	}
	for _, k := range t.Retired {
		w.Retired = append(w.Retired, k.PublicKey)
		w.Labels[k.PublicKey] = k.Label
	}
	return w
}

// checkPublicKeys checks that every key apply would write is a public key:
// apply never writes a secret.
func checkPublicKeys(t *policy.Target) error {
	for _, k := range slices.Concat(t.Keys, t.Retired) {
		if _, err := keys.ParsePublicKey(k.PublicKey); err != nil {
			return fmt.Errorf("key %s: %w", k.Label, err)
		}
	}
	return nil
}
