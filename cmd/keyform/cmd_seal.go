package main

import (
	"flag"
	"fmt"

	"github.com/keyform/keyform/internal/cli"
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
		k, err := p.FindGeneratedKey(label)
		if err != nil {
			return err
		}
		warnExpired(e, k)
		st, s, err := keyFiles(e).SealKey(p, k, o.secret, o.force)
		if err != nil {
			return err
		}
		if s == nil {
			fmt.Fprintln(e.Stdout, st.CurrentLine())
			continue
		}
		todo = append(todo, s)
	}
	for _, s := range todo {
		if err := s.Write(e.Path(".")); err != nil {
			return err
		}
		fmt.Fprintln(e.Stdout, s.Status.SealedLine())
		s.Status.WarnRotation(e)
	}
	return nil
}
