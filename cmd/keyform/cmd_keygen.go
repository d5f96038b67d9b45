package main

import (
	"flag"
	"fmt"
	"path/filepath"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/schema"
)

func keygenCommand() *cli.Command {
	return &cli.Command{
		Name:  "keygen",
		Args:  "[--replace] [KEY...] | --name NAME --secret-out ABSPATH [--public-out PATH]",
		Short: "generate Nix signing key pairs",
		Long: `With KEY labels (or none, meaning every key whose public key is missing),
generates an ed25519 key pair for each declared key, in the format of
"nix key generate-secret". The secret goes to the key's private_key_path
(mode 0600, never overwritten; parent directories are created 0700), the
public key to its public_key_file, and the public key is printed.

A key that already has a public key is refused: every machine trusts it, and
replacing it silently would break them. Use "keyform rotate" to add a
successor. --replace generates a new pair under the same name anyway (move
the old private key away first); "keyform plan" flags such a change.

The standalone form needs no policy:
  keyform keygen --name NAME --secret-out /abs/path.key [--public-out PATH]`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o keygenOpts
			fs.BoolVar(&o.replace, "replace", false, "generate a new pair for keys that already have a public key")
			fs.StringVar(&o.name, "name", "", "standalone: Nix key `name`")
			fs.StringVar(&o.secretOut, "secret-out", "", "standalone: absolute `path` for the secret key")
			fs.StringVar(&o.publicOut, "public-out", "", "standalone: `path` for the public key (also printed)")
			return func(e *cli.Env, args []string) error { return runKeygen(e, o, args) }
		},
	}
}

type keygenOpts struct {
	replace                    bool
	name, secretOut, publicOut string
}

func runKeygen(e *cli.Env, o keygenOpts, args []string) error {
	if o.name != "" || o.secretOut != "" || o.publicOut != "" {
		if len(args) > 0 || o.replace {
			return cli.Usagef("keygen: --name/--secret-out/--public-out make a key without a policy; do not mix them with KEY arguments or --replace")
		}
		return keygenStandalone(e, o)
	}
	p, err := loadPolicy(e, schema.Options{AllowPending: true, Expiry: schema.ExpiryIgnored})
	if err != nil {
		return err
	}
	todo, err := p.KeysToGenerate(args)
	if err != nil {
		return err
	}
	if len(todo) == 0 {
		e.Printf("every key already has a public key; nothing to generate")
		return nil
	}
	warnExpired(e, todo...)
	return keyFiles(e).Generate(e.Stdout, todo, o.replace)
}

func keygenStandalone(e *cli.Env, o keygenOpts) error {
	switch {
	case o.name == "":
		return cli.Usagef("keygen: --name is required with --secret-out")
	case o.secretOut == "":
		return cli.Usagef("keygen: --secret-out is required: keyform never prints a secret key")
	case !filepath.IsAbs(o.secretOut):
		return cli.Usagef("keygen: --secret-out %q must be an absolute path", o.secretOut)
	}
	pk, err := keyFiles(e).GenerateStandalone(o.name, o.secretOut, o.publicOut)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.Stdout, pk.String())
	return nil
}
