package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/seal"
)

func sealCommand() *cli.Command {
	return &cli.Command{
		Name:  "seal",
		Args:  "[--secret FILE] [--force] KEY...",
		Short: "encrypt private keys to their publishers' recipients, for committing",
		Long: `Encrypts the private key of each KEY, read from its private_key_path (or
--secret FILE), with age to every recipient of every publisher of the key,
and writes sealed_dir/KEY.age (ASCII-armored) and sealed_dir/KEY.recipients
(who can decrypt it). Both are safe to commit; review a change to the
.recipients file like an access grant.

The private key must match the key's public key in the policy. A key that is
already sealed to exactly the policy's recipients is left alone (age output
is randomised, so rewriting it would only churn git); --force seals it anew.
Publishers then install it with "keyform unseal KEY --identity FILE".`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o sealOpts
			fs.StringVar(&o.secret, "secret", "", "read the private key from `FILE` instead of the key's private_key_path (one KEY only)")
			fs.BoolVar(&o.force, "force", false, "seal even keys that are already current")
			return func(e *cli.Env, args []string) error { return runSeal(e, o, args) }
		},
	}
}

type sealOpts struct {
	secret string
	force  bool
}

func runSeal(e *cli.Env, o sealOpts, args []string) error {
	if len(args) == 0 {
		return cli.Usagef("seal needs at least one KEY; \"keyform reseal\" updates every sealed key")
	}
	if o.secret != "" && len(args) > 1 {
		return cli.Usagef("seal: --secret names one key's file; seal one KEY at a time with it")
	}
	p, err := loadPolicy(e, involvedOptions)
	if err != nil {
		return err
	}
	// Seal everything in memory first: a refusal leaves no file written.
	var todo []*seal.Sealed
	for _, label := range args {
		s, err := sealKey(e, p, label, o)
		if err != nil {
			return err
		}
		if s != nil {
			todo = append(todo, s)
		}
	}
	for _, s := range todo {
		if err := s.Write(e.Path(".")); err != nil {
			return err
		}
		k, want := s.Status.Key, s.Status.Want
		fmt.Fprintf(e.Stdout, "sealed %s to %s (%s): %s\n", k.Label, cli.Plural(len(want), "recipient", "recipients"), strings.Join(seal.Publishers(want), ", "), k.SealedFile)
		s.Status.WarnRotation(e)
	}
	return nil
}

// sealKey seals the key labelled label in memory, or returns nil when it
// is current already.
func sealKey(e *cli.Env, p *policy.Policy, label string, o sealOpts) (*seal.Sealed, error) {
	k, err := p.FindGeneratedKey(label)
	if err != nil {
		return nil, err
	}
	warnExpired(e, k)
	st, err := seal.Check(os.DirFS(e.Path(".")), p, k)
	if err != nil {
		return nil, err
	}
	if len(st.Want) == 0 {
		return nil, hint.Wrap(fmt.Errorf("key %s has no recipients: no publisher with recipients lists it", k.Label),
			"add a publisher with keys = [key.%s] and recipients = [\"age1...\"]", k.Label)
	}
	if st.State == seal.Current && !o.force {
		fmt.Fprintf(e.Stdout, "current %s: %s is sealed to the policy's %s\n", k.Label, k.SealedFile, cli.Plural(len(st.Want), "recipient", "recipients"))
		return nil, nil
	}
	path := o.secret
	if path == "" {
		path = k.PrivateKeyPath
	}
	if path == "" {
		return nil, hint.Wrap(fmt.Errorf("key %s has no private_key_path to read the secret from", k.Label),
			"pass it with --secret FILE, or set private_key_path on the key")
	}
	sk, err := seal.ReadSecret(k, e.Path(path))
	if err != nil {
		return nil, err
	}
	return seal.Prepare(st, sk)
}
