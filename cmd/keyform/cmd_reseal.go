package main

import (
	"flag"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/seal"
)

func resealCommand() *cli.Command {
	return &cli.Command{
		Name:  "reseal",
		Args:  "[--identity FILE] [--check] [KEY...]",
		Short: "re-encrypt sealed keys whose recipients differ from the policy",
		Long: `Compares every sealed key (or the named KEYs) with the policy: a key whose
publishers or recipients changed is sealed again to exactly the policy's
recipients, a sealed key that no publisher recipient wants any more is
deleted, and a key never sealed is sealed. Prints one line per key:
current, resealed, removed or sealed.

The secret comes from decrypting the current sealed file with --identity
(your age identity or SSH private key), or else from the key's
private_key_path on this machine (the only source for a key never sealed).
Either way it must match the policy's public key.

Removing a publisher or recipient does not take the key away: they could
decrypt it before, and git history keeps the old sealed file. reseal warns;
rotate the key ("keyform rotate KEY").

--check changes nothing: it lists what reseal would do and exits 1 if
anything is out of date (for CI).`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o resealOpts
			fs.StringVar(&o.identity, "identity", "", "age identity `FILE` or SSH private key that can decrypt the sealed keys")
			fs.BoolVar(&o.check, "check", false, "report only; exit 1 if any sealed key is out of date")
			return func(e *cli.Env, args []string) error { return runReseal(e, o, args) }
		},
	}
}

type resealOpts struct {
	identity string
	check    bool
}

func runReseal(e *cli.Env, o resealOpts, args []string) error {
	p, err := loadPolicy(e, involvedOptions)
	if err != nil {
		return err
	}
	ks, err := p.GeneratedKeys(args)
	if err != nil {
		return err
	}
	warnExpired(e, ks...)
	var ids *seal.Identities
	if o.identity != "" && !o.check {
		if ids, err = readIdentities(e, o.identity); err != nil {
			return err
		}
	}
	plan, err := seal.PlanReseal(e.Path("."), p, ks, ids, o.check)
	if err != nil {
		return err
	}
	outOfDate, failed := seal.ReportReseal(e.Stdout, plan, len(args) > 0, o.check)
	if n := len(failed); n > 0 {
		// Nothing is written unless every stale key can be resealed.
		for _, err := range failed[:n-1] {
			e.PrintError(err)
		}
		return failed[n-1]
	}
	switch {
	case o.check && outOfDate:
		return cli.ErrDiffers
	case o.check:
		return nil
	}
	return seal.WriteReseal(e.Path("."), plan, e.Stdout, e)
}
