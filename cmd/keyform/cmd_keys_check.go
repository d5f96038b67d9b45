package main

import (
	"flag"
	"fmt"

	"github.com/keyform/keyform/internal/cli"
)

func keysCheckCommand() *cli.Command {
	return &cli.Command{
		Name:  "keys check",
		Args:  "KEY [--publisher NAME | --secret FILE]",
		Short: "prove that a private key file matches the key's committed public key",
		Long: `Reads the private key of KEY from where it is installed (as unseal installs
it: where publisher NAME keeps it, or without --publisher the path every
publisher of KEY uses, else the key's private_key_path), or from --secret
FILE, signs a random message with it and verifies the signature with the
public key in the policy. Exit status 0: it matches; 1: it is another key;
2: it cannot be read or checked. The secret is never printed.

It also warns when the file is readable by group or others, and refuses a
file inside the policy's git work tree, where it could be committed.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o keysCheckOpts
			fs.StringVar(&o.publisher, "publisher", "", "check the file publisher `NAME` keeps the key in")
			fs.StringVar(&o.secret, "secret", "", "read the private key from `FILE` instead")
			return func(e *cli.Env, args []string) error { return runKeysCheck(e, o, args) }
		},
	}
}

type keysCheckOpts struct{ publisher, secret string }

func runKeysCheck(e *cli.Env, o keysCheckOpts, args []string) error {
	switch {
	case len(args) != 1:
		return cli.Usagef("keys check takes one KEY")
	case o.publisher != "" && o.secret != "":
		return cli.Usagef("keys check: --publisher and --secret exclude each other")
	}
	p, err := loadPolicy(e, involvedOptions)
	if err != nil {
		return err
	}
	k, err := p.FindGeneratedKey(args[0])
	if err != nil {
		return err
	}
	warnExpired(e, k)
	path, proof, err := keyFiles(e).CheckInstalled(p, k, o.publisher, o.secret)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "%s: %s %s\n", k.Label, path, proof)
	if !proof.Match {
		return cli.ErrDiffers
	}
	return nil
}
