package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/policy"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:  "apply",
		Args:  "TARGET [--file PATH] [--create] [--dry-run] [--backup] [--restart] [--no-nix-check]",
		Short: "patch a nixconf target's nix.conf to trust exactly the policy's keys",
		Long: `Edits the nix.conf of a nixconf target (its path, or --file) so that Nix
trusts the target's active keys and none of the policy's retired keys, and uses
the substituters of its catalogs. Nothing else in the file changes: missing
keys and substituters go only into keyform's block ("# Managed by keyform
(target ...)", added at the end of the file, and moved to the end when a later
line would wipe it), never into your own lines; retired keys are removed
wherever they are, and an extra-trusted-public-keys line that held nothing
else is deleted. Keys the policy does not name are never removed.

Before writing, apply has the Nix installed on the machine load the result:
"nix show-config" ("nix config show" on a Nix that has dropped the old name)
with NIX_CONF_DIR set to a private copy, no user configuration and no
NIX_CONFIG. If that Nix rejects it, or reads other trusted-public-keys or
substituters than keyform computed, nothing is written and apply exits 2 with
Nix's message and the line, saying whether the current file is rejected the
same way. A nix not on PATH is looked for in /nix/var/nix/profiles/default/bin
(sudo's PATH usually lacks it); without any, apply says the result was checked
by keyform's parser only. --no-nix-check skips the check.

A file that already gives the target its trust is left alone, needing no write
access (exit 0, "no change"). Otherwise it is replaced atomically (same
directory, fsync, rename) with its mode, owner and group, under a lock on its
directory (flock; no lock file is created) so that concurrent applies take
turns. A file that does not exist is an error unless --create is given.
keyform refuses a file that is a symlink into the Nix store (NixOS and
nix-darwin generate it: use a nixos or darwin target), that is not a regular
file, that it cannot replace (it says why: permissions, a read-only file
system, chattr +i), or that Nix would reject.

--dry-run runs the same checks, prints the diff and the Nix check's result, and
exits 1 if the file would change, 0 if not. After a change, apply prints the
command that makes the Nix daemon read the file again; --restart runs it.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o applyOpts
			fs.StringVar(&o.file, "file", "", "patch `path` instead of the target's path")
			fs.BoolVar(&o.create, "create", false, "create the file (and its directory) if it does not exist")
			fs.BoolVar(&o.dryRun, "dry-run", false, "print the diff; exit 1 if the file would change")
			fs.BoolVar(&o.backup, "backup", false, "keep the previous file as PATH.bak")
			fs.BoolVar(&o.restart, "restart", false, "restart the Nix daemon after a change")
			fs.BoolVar(&o.noNixCheck, "no-nix-check", false, "do not have the installed nix load the result before writing it")
			return func(e *cli.Env, args []string) error { return runApply(e, o, args) }
		},
	}
}

type applyOpts struct {
	file                            string
	create, dryRun, backup, restart bool
	noNixCheck                      bool
}

// host describes this machine to nixconf, through env's test seams.
func host(e *cli.Env) nixconf.Host {
	h := nixconf.LocalHost()
	h.GOOS, h.EUID = e.Sys.GOOS, e.Sys.Geteuid()
	h.Run = func(argv []string) error { return e.Sys.RunCommand(e, argv) }
	return h
}

func runApply(e *cli.Env, o applyOpts, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("apply needs exactly one TARGET, for example nixconf.ci_runners")
	}
	p, err := loadPolicy(e, involvedOptions)
	if err != nil {
		return err
	}
	t, err := p.FindTarget(args[0])
	if err != nil {
		return err
	}
	warnExpired(e, t.Keys...)
	if t.Kind != policy.NixConf {
		return hint.Wrap(fmt.Errorf("%s is a %s target; keyform apply only edits nix.conf, for nixconf targets", t.ID(), t.Kind), "%s", t.RolloutHint())
	}
	if err := checkPublicKeys(t); err != nil {
		return err
	}
	path := t.Path
	if o.file != "" {
		path = e.Path(o.file)
	}
	h := host(e)
	real, err := h.CheckConfFile(path)
	if err != nil {
		return applyError(err, o, args[0])
	}
	if real != path {
		e.Printf("%s is a symlink to %s; editing %s", path, real, real)
	}
	c, err := h.OpenConf(path, real)
	if err != nil {
		return applyError(err, o, args[0])
	}
	defer c.Close()
	if !c.Exists && !o.create {
		return hint.Wrap(fmt.Errorf("%s does not exist", path), "check the target's path (or --file); to start a new file there, add --create")
	}
	// Whether anything needs writing is decided before the lock, which
	// needs write access: a file already right is fine on a read-only
	// system.
	want := nixconf.WantOf(t)
	plan, check, dryDiff, err := planApply(e, h, c, want, o)
	if err != nil {
		return err
	}
	if plan.Changed() && !o.dryRun {
		changed, err := c.Lock()
		if err != nil {
			return applyError(err, o, args[0])
		}
		if changed {
			// Another apply (or an editor) wrote the file meanwhile.
			if plan, check, _, err = planApply(e, h, c, want, o); err != nil {
				return err
			}
		}
	}
	printPlanNotes(e, plan, check, o)
	if !plan.Changed() {
		fmt.Fprintf(e.Stdout, "%s already gives %s what the policy says; no change\n", path, t.ID())
		return nil
	}
	if o.dryRun {
		e.Stdout.Write(dryDiff)
		return cli.ErrDiffers
	}
	time.Sleep(e.Sys.ApplyPause)
	backup, err := c.Write(plan.New, o.backup)
	if err != nil {
		return applyError(err, o, args[0])
	}
	io.WriteString(e.Stdout, plan.Report())
	if backup != "" {
		fmt.Fprintf(e.Stdout, "previous version kept in %s\n", backup)
	}
	r := h.PlanRestart(path)
	if r.UserFile {
		e.Notef("%s is a user's file; the Nix daemon ignores trusted-public-keys from it unless that user is in trusted-users", path)
	}
	return r.Advise(e.Stdout, o.restart)
}

// planApply plans the patch and, unless --no-nix-check, has the machine's
// nix check the result (check is nil when skipped). A refused plan or a
// failed check is an error, already explained. In a dry run it also
// returns the diff of a change, made while nix runs.
func planApply(e *cli.Env, h nixconf.Host, c *nixconf.ConfFile, want nixconf.Want, o applyOpts) (*nixconf.ApplyPlan, *nixconf.NixCheck, []byte, error) {
	plan, err := nixconf.PlanApply(c, want, nixconf.ReadFile)
	if err != nil {
		return nil, nil, nil, err
	}
	if plan.Refused() {
		for _, c := range plan.Change.Conflicts {
			e.Printf("%s", c)
			if c.Hint != "" {
				e.Hintf("%s", c.Hint)
			}
		}
		e.Printf("%s not changed: it would not give %s the trust the policy says", plan.Path, plan.Want.Target)
		return nil, nil, nil, cli.ErrInvalid
	}
	diffc := make(chan []byte, 1)
	if o.dryRun && plan.Changed() {
		go func() { diffc <- diff.Diff(plan.Path, plan.Old, plan.Path+" (keyform apply)", plan.New) }()
	} else {
		diffc <- nil
	}
	var check *nixconf.NixCheck
	if !o.noNixCheck {
		check, err = h.CheckWithNix(plan)
	}
	d := <-diffc
	if err != nil {
		return nil, nil, nil, err
	}
	return plan, check, d, nil
}

// applyError explains a file apply cannot read, lock or replace; a
// permission error suggests the same command with sudo.
func applyError(err error, o applyOpts, target string) error {
	var ae *nixconf.AccessError
	if !errors.As(err, &ae) {
		return err
	}
	if !ae.NeedsRoot {
		return hint.Wrap(ae, "%s", ae.Hint)
	}
	cmd := []string{"sudo", "keyform", "apply", target}
	if o.file != "" {
		cmd = append(cmd, "--file", o.file)
	}
	for _, f := range []struct {
		set  bool
		name string
	}{{o.create, "--create"}, {o.backup, "--backup"}, {o.restart, "--restart"}, {o.noNixCheck, "--no-nix-check"}} {
		if f.set {
			cmd = append(cmd, f.name)
		}
	}
	return hint.Wrap(ae, "run it as root: %s", strings.Join(cmd, " "))
}

// printPlanNotes prints the notes and warnings of a plan apply writes
// anyway, and what the Nix check found: always when no nix could check, in
// a dry run also when it did.
func printPlanNotes(e *cli.Env, plan *nixconf.ApplyPlan, check *nixconf.NixCheck, o applyOpts) {
	for _, n := range plan.Change.Notes {
		e.Notef("%s", n)
	}
	for _, w := range plan.Warnings {
		e.Warnf("%s", w.Msg)
		if w.Hint != "" {
			e.Hintf("%s", w.Hint)
		}
	}
	switch {
	case check == nil:
	case !check.Ran():
		e.Notef("%s", check.Summary(plan.Path))
	case o.dryRun:
		e.Printf("%s", check.Summary(plan.Path))
	}
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
