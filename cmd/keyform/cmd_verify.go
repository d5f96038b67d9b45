package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/verify"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Args:  "TARGET [--config FILE|- | --config-dir DIR | --user NAME] [--json]",
		Short: "check that a machine's Nix trusts exactly what a target says",
		Long: `Reads the effective Nix configuration of this machine, by running
"nix config show --json" (or "nix show-config --json" on Nix before 2.20), or
from --config FILE ("-" for standard input) holding that output, in text or
JSON form, captured elsewhere. Then checks it against the target, whatever
its kind: every active key trusted, no retired key trusted, every substituter
of the target's catalogs configured. Other trusted keys are listed as notes.

Run here, it also asks Nix whether the daemon trusts you ("nix store info
--json"; "nix store ping" before 2.19; Nix before 2.15 cannot say, and verify
then matches you against trusted-users): a daemon ignores the
trusted-public-keys of a user it does not trust, and the substituters that
its own configuration does not list, so verify names the target's keys and
substituters that only your nix.conf gives you. And it reads your nix.conf
files (~/.config/nix/nix.conf, $XDG_CONFIG_DIRS, $NIX_USER_CONF_FILES,
$NIX_CONFIG) and warns about a plain trusted-public-keys or substituters
line there that drops what the system's nix.conf sets.

--user NAME (root only) runs nix as that user, with their home directory and
a login's default environment, to check what their Nix really trusts.

--config-dir DIR checks a fleet: every HOST.json or HOST.txt in DIR is one
machine's captured "nix config show" output. verify prints one line per host
and a summary of the hosts that lag a rotation.

Exit status: 0 the machine (every host) matches, 1 it does not (each problem
is listed), 2 nix could not be run or its output (a host's file) not read.
--json prints the report as JSON for scripts and dashboards.

nix config show shows what a Nix client reads. The daemon reads nix.conf when
it starts: restart it after changing the file.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o verifyOpts
			fs.StringVar(&o.config, "config", "", "read nix config show output from `file` (\"-\": standard input) instead of running nix")
			fs.StringVar(&o.configDir, "config-dir", "", "check every HOST.json / HOST.txt (captured nix config show output) in `dir`")
			fs.StringVar(&o.user, "user", "", "run nix as user `name` (needs root)")
			fs.BoolVar(&o.json, "json", false, "print the report as JSON")
			return func(e *cli.Env, args []string) error { return runVerify(e, o, args) }
		},
	}
}

type verifyOpts struct {
	config, configDir, user string
	json                    bool
}

func runVerify(e *cli.Env, o verifyOpts, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("verify needs exactly one TARGET, for example nixconf.ci_runners")
	}
	if n := countSet(o.config, o.configDir, o.user); n > 1 {
		return cli.Usagef("verify takes one of --config, --config-dir and --user")
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
	if o.configDir != "" {
		return runVerifyFleet(e, o, t)
	}
	src := verify.Source{Config: o.config, ConfigPath: e.Path(o.config), Stdin: e.Stdin, User: o.user, EUID: e.Sys.Geteuid()}
	r, err := src.Report(t)
	if err != nil {
		return err
	}
	if err := verify.Write(e.Stdout, r, o.json); err != nil {
		return err
	}
	if r.OK {
		return nil
	}
	if !o.json {
		for _, h := range r.Hints(t) {
			e.Hintf("%s", h)
		}
	}
	return cli.ErrDiffers
}

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

// runVerifyFleet checks every captured configuration in --config-dir:
// one line per host, then which hosts lag a rotation. Unreadable files
// are named on standard error and make the exit status 2.
func runVerifyFleet(e *cli.Env, o verifyOpts, t *policy.Target) error {
	r, err := verify.Fleet(t, o.configDir, os.DirFS(e.Path(o.configDir)))
	if err != nil {
		return fmt.Errorf("--config-dir %w", err)
	}
	if err := verify.Write(e.Stdout, r, o.json); err != nil {
		return err
	}
	for _, msg := range r.HostErrors() {
		e.Printf("%s", msg)
	}
	if note := r.SkippedNote(); note != "" {
		e.Notef("%s", note)
	}
	switch {
	case r.Summary.Unreadable > 0:
		return cli.ErrInvalid
	case !r.OK:
		return cli.ErrDiffers
	}
	return nil
}
