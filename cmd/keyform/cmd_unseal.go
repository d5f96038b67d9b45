package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keyform/keyform/schema"
	"github.com/keyform/keyform/seal"
)

func unsealCommand() *command {
	return &command{
		name:  "unseal",
		args:  "KEY --identity FILE [--out ABSPATH] [--force]",
		short: "decrypt a sealed private key and install it with mode 0600",
		long: `Decrypts the sealed private key of KEY (sealed_dir/KEY.age) with your age
identity file or SSH private key, checks that it is the key whose public key
the policy holds, and writes it to --out, or else the key's private_key_path:
an absolute path outside the repository, mode 0600, parent directories 0700.

An existing file is never replaced unless --force is given (then it is
replaced atomically, still 0600). The secret is checked before anything is
written, and only that one file ever holds it. A passphrase-protected SSH
key is unlocked by asking on the terminal.

To install every key of a publisher at the publisher's paths and configure
Flox, use "keyform publisher setup NAME".`,
		setup: func(fs *flag.FlagSet) runFunc {
			var o unsealOpts
			fs.StringVar(&o.identity, "identity", "", "age identity `FILE` or SSH private key to decrypt with")
			fs.StringVar(&o.out, "out", "", "absolute `path` to install the key at (default: the key's private_key_path)")
			fs.BoolVar(&o.force, "force", false, "replace an existing file at the path")
			return func(e *env, args []string) error { return runUnseal(e, o, args) }
		},
	}
}

type unsealOpts struct {
	identity, out string
	force         bool
}

func runUnseal(e *env, o unsealOpts, args []string) error {
	if len(args) != 1 {
		return usagef("unseal takes one KEY")
	}
	if o.identity == "" {
		return usagef("unseal needs --identity FILE: your age identity file or SSH private key")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	k, err := generatedKey(p, args[0])
	if err != nil {
		return err
	}
	out := o.out
	switch {
	case out == "" && k.PrivateKeyPath == "":
		return withHint(fmt.Errorf("key %s has no private_key_path, so there is nowhere to install it", k.Label),
			"pass --out /absolute/path, or set private_key_path on the key or its publisher (keyform publisher setup NAME uses the publisher's)")
	case out == "":
		out = k.PrivateKeyPath
	case !filepath.IsAbs(out):
		return usagef("unseal: --out %q must be an absolute path, so that nix and flox read the same file wherever they run", out)
	}
	out = filepath.Clean(out)
	if err := checkOutside(e, out); err != nil {
		return err
	}
	if _, err := os.Lstat(out); err == nil && !o.force {
		return withHint(fmt.Errorf("%s already exists; keyform never overwrites a private key", out),
			"check what it holds with \"keyform keys check %s --secret %s\"; pass --force to replace it", k.Label, out)
	}
	ids, err := readIdentities(e, o.identity)
	if err != nil {
		return err
	}
	sk, err := seal.OpenKey(e.path("."), k, ids)
	if err != nil {
		return err
	}
	return installKey(e, k, sk, out, o.force)
}
