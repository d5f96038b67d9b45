package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/policy"
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
	ks, err := resealKeys(p, args)
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
	var failed []error
	outOfDate := false
	for _, r := range plan {
		switch k := r.Key; {
		case r.State == seal.Unsealed && len(args) > 0:
			fmt.Fprintf(e.Stdout, "unsealed %s: no publisher has recipients for it\n", k.Label)
		case r.State == seal.Unsealed:
		case r.State == seal.Current:
			fmt.Fprintf(e.Stdout, "current %s\n", k.Label)
		case r.Err != nil:
			outOfDate, failed = true, append(failed, r.Err)
		case o.check:
			outOfDate = true
			fmt.Fprintf(e.Stdout, "%s %s: %s\n", r.State, k.Label, r.Change())
		}
	}
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
	return writeReseal(e, plan)
}

// resealKeys returns the keys named on the command line, or else every
// generated key.
func resealKeys(p *policy.Policy, labels []string) ([]*policy.Key, error) {
	var ks []*policy.Key
	for _, label := range labels {
		k, err := p.FindGeneratedKey(label)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	if len(labels) == 0 {
		for _, k := range p.Keys {
			if !k.Pending() {
				ks = append(ks, k)
			}
		}
	}
	return ks, nil
}

// writeReseal writes the keys sealed anew, then removes the orphaned ones.
func writeReseal(e *cli.Env, plan []seal.Reseal) error {
	for _, r := range plan {
		if r.Sealed == nil {
			continue
		}
		if err := r.Sealed.Write(e.Path(".")); err != nil {
			return err
		}
		if k := r.Key; r.State == seal.Missing {
			fmt.Fprintf(e.Stdout, "sealed %s to %s (%s): %s\n", k.Label, cli.Plural(len(r.Want), "recipient", "recipients"), strings.Join(seal.Publishers(r.Want), ", "), k.SealedFile)
			continue
		}
		fmt.Fprintf(e.Stdout, "resealed %s: %s\n", r.Key.Label, r.Change())
		r.Status.WarnRotation(e)
	}
	for _, r := range plan {
		if r.State != seal.Orphaned {
			continue
		}
		if err := seal.Remove(e.Path("."), r.Key); err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "removed %s: no publisher recipients left\n", r.Key.Label)
		r.Status.WarnRotation(e)
	}
	return nil
}
