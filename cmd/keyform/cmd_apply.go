package main

import (
	"errors"
	"flag"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/nixconf"
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
	want, err := nixconf.ApplyWant(t)
	if err != nil {
		return err
	}
	path := t.Path
	if o.file != "" {
		path = e.Path(o.file)
	}
	ao := nixconf.ApplyOptions{Create: o.create, DryRun: o.dryRun, Backup: o.backup, Restart: o.restart, NoNixCheck: o.noNixCheck, Pause: e.Sys.ApplyPause}
	err = host(e).Apply(e.Stdout, e, want, path, ao)
	switch {
	case errors.Is(err, nixconf.ErrRefused):
		return cli.ErrInvalid
	case errors.Is(err, nixconf.ErrWouldChange):
		return cli.ErrDiffers
	}
	return nixconf.WithRootHint(err, ao.RootCommand(args[0], o.file))
}

// host describes this machine to nixconf, through env's test seams.
func host(e *cli.Env) nixconf.Host {
	h := nixconf.LocalHost()
	h.GOOS, h.EUID = e.Sys.GOOS, e.Sys.Geteuid()
	h.Run = func(argv []string) error { return e.Sys.RunCommand(e, argv) }
	return h
}
