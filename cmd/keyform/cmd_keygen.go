package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
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
	var todo []*policy.Key
	if len(args) == 0 {
		for _, k := range p.Keys {
			if k.Pending() {
				todo = append(todo, k)
			}
		}
		if len(todo) == 0 {
			e.Printf("every key already has a public key; nothing to generate")
			return nil
		}
	}
	for _, label := range args {
		k, err := p.FindKey(label)
		if err != nil {
			return err
		}
		if !slices.Contains(todo, k) {
			todo = append(todo, k)
		}
	}
	warnExpired(e, todo...)
	// Check everything before writing anything, so a refusal leaves no
	// half-generated set behind.
	for _, k := range todo {
		if err := checkKeygen(p, k, o.replace); err != nil {
			return err
		}
	}
	return generateKeys(e, todo)
}

// generateKeys generates a key pair for each key and writes both halves
// (secretfile.CreatePairs: secrets first, durable, then public keys).
func generateKeys(e *cli.Env, todo []*policy.Key) error {
	pairs := make([]secretfile.Pair, len(todo))
	for i, k := range todo {
		sk, err := keys.Generate(k.Name, e.Rand)
		if err != nil {
			return fmt.Errorf("key %s: %w", k.Label, err)
		}
		pairs[i] = secretfile.Pair{Label: k.Label, Secret: sk, SecretPath: k.PrivateKeyPath, PublicPath: e.Path(k.PublicKeyFile)}
	}
	return keyFiles(e).Writer(false).CreatePairs(pairs, func(i int) {
		k := todo[i]
		e.Printf("key %s: secret written to %s (0600), public key to %s", k.Label, k.PrivateKeyPath, k.PublicKeyFile)
		fmt.Fprintln(e.Stdout, pairs[i].Secret.Public().String())
	})
}

func checkKeygen(p *policy.Policy, k *policy.Key, replace bool) error {
	switch {
	case k.PublicKeyFile == "":
		return hint.Wrap(fmt.Errorf("key %s has an inline public_key, so keygen has nowhere to write a new one", k.Label),
			"replace public_key with public_key_file = \"keys/%s.pub\" to let keygen manage it", k.Label)
	case !k.Pending() && !replace:
		return hint.Wrap(fmt.Errorf("key %s already has a public key in %s; every machine that trusts it would break if it changed", k.Label, k.PublicKeyFile),
			"to move to a new key run \"keyform rotate %s\"; to replace it in place anyway pass --replace", k.Label)
	case k.PrivateKeyPath == "":
		return hint.Wrap(fmt.Errorf("key %s has no private_key_path", k.Label),
			"add private_key_path = \"/var/lib/keyform/%s.key\" (an absolute path outside the repository)", k.Name)
	}
	if _, err := os.Lstat(k.PrivateKeyPath); err == nil {
		return hint.Wrap(fmt.Errorf("key %s: private key file %s already exists; keyform never overwrites a private key", k.Label, k.PrivateKeyPath),
			"if it is the key of %s, write its public key with \"keyform pubkey < %s > %s\"; otherwise move it away first", k.Label, k.PrivateKeyPath, k.PublicKeyFile)
	}
	return nil
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
	sk, err := keys.Generate(o.name, e.Rand)
	if err != nil {
		return err
	}
	if o.publicOut != "" {
		if _, err := os.Lstat(e.Path(o.publicOut)); err == nil {
			return fmt.Errorf("--public-out %s already exists; not overwriting it", o.publicOut)
		}
	}
	if err := keyFiles(e).Writer(true).Create(o.secretOut, sk); err != nil {
		return err
	}
	pub := sk.Public().String()
	if o.publicOut != "" {
		if err := os.WriteFile(e.Path(o.publicOut), []byte(pub+"\n"), 0o644); err != nil {
			os.Remove(o.secretOut)
			return err
		}
	}
	fmt.Fprintln(e.Stdout, pub)
	return nil
}
