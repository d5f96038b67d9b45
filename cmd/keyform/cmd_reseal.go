package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/seal"
)

func resealCommand() *command {
	return &command{
		name:  "reseal",
		args:  "[--identity FILE] [--check] [KEY...]",
		short: "re-encrypt sealed keys whose recipients differ from the policy",
		long: `Compares every sealed key (or the named KEYs) with the policy: a key whose
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
		setup: func(fs *flag.FlagSet) runFunc {
			var o resealOpts
			fs.StringVar(&o.identity, "identity", "", "age identity `FILE` or SSH private key that can decrypt the sealed keys")
			fs.BoolVar(&o.check, "check", false, "report only; exit 1 if any sealed key is out of date")
			return func(e *env, args []string) error { return runReseal(e, o, args) }
		},
	}
}

type resealOpts struct {
	identity string
	check    bool
}

func runReseal(e *env, o resealOpts, args []string) error {
	p, err := loadPolicy(e, involvedOptions)
	if err != nil {
		return err
	}
	r := &resealRun{e: e, check: o.check, named: len(args) > 0}
	ks, err := resealKeys(p, args)
	if err != nil {
		return err
	}
	warnExpired(e, ks...)
	if o.identity != "" && !o.check {
		if r.ids, err = readIdentities(e, o.identity); err != nil {
			return err
		}
	}
	for _, k := range ks {
		if err := r.consider(p, k); err != nil {
			return err
		}
	}
	if n := len(r.failed); n > 0 {
		// Nothing is written unless every stale key can be resealed.
		for _, err := range r.failed[:n-1] {
			e.printError(err)
		}
		return r.failed[n-1]
	}
	if o.check {
		if r.outOfDate {
			return errDiffers
		}
		return nil
	}
	return r.write()
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

// resealRun is one reseal: what to write and remove, decided key by key
// before anything is written.
type resealRun struct {
	e            *env
	check, named bool
	ids          *seal.Identities
	todo         []*seal.Sealed
	orphans      []*seal.Status
	failed       []error
	outOfDate    bool
}

// consider prints the state of k and, unless only checking, prepares what
// brings it up to date.
func (r *resealRun) consider(p *policy.Policy, k *policy.Key) error {
	e := r.e
	st, err := seal.Check(os.DirFS(e.path(".")), p, k)
	if err != nil {
		return err
	}
	switch st.State {
	case seal.Unsealed:
		if r.named {
			fmt.Fprintf(e.stdout, "unsealed %s: no publisher has recipients for it\n", k.Label)
		}
		return nil
	case seal.Current:
		fmt.Fprintf(e.stdout, "current %s\n", k.Label)
		return nil
	}
	r.outOfDate = true
	switch {
	case r.check:
		fmt.Fprintf(e.stdout, "%s %s: %s\n", st.State, k.Label, st.Change())
	case st.State == seal.Orphaned:
		r.orphans = append(r.orphans, st)
	default:
		sk, err := seal.ResealSecret(e.path("."), k, r.ids)
		var s *seal.Sealed
		if err == nil {
			s, err = seal.Prepare(st, sk)
		}
		if err != nil {
			r.failed = append(r.failed, err)
		} else {
			r.todo = append(r.todo, s)
		}
	}
	return nil
}

// write writes the resealed keys and removes the orphaned ones.
func (r *resealRun) write() error {
	e := r.e
	for _, s := range r.todo {
		if err := s.Write(e.path(".")); err != nil {
			return err
		}
		if k, want := s.Status.Key, s.Status.Want; s.Status.State == seal.Missing {
			fmt.Fprintf(e.stdout, "sealed %s to %s (%s): %s\n", k.Label, plural(len(want), "recipient", "recipients"), strings.Join(seal.Publishers(want), ", "), k.SealedFile)
			continue
		}
		fmt.Fprintf(e.stdout, "resealed %s: %s\n", s.Status.Key.Label, s.Status.Change())
		warnRotation(e, s.Status)
	}
	for _, st := range r.orphans {
		if err := seal.Remove(e.path("."), st.Key); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s: no publisher recipients left\n", st.Key.Label)
		warnRotation(e, st)
	}
	return nil
}
