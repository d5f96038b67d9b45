package main

import (
	"flag"
	"path/filepath"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/seal"
)

func unsealCommand() *cli.Command {
	return &cli.Command{
		Name:  "unseal",
		Args:  "KEY --identity FILE [--publisher NAME | --out ABSPATH] [--force]",
		Short: "decrypt a sealed private key and install it with mode 0600",
		Long: `Decrypts the sealed private key of KEY (sealed_dir/KEY.age) with your age
identity file or SSH private key, checks that it is the key whose public key
the policy holds, and writes it where the publisher keeps it: for
--publisher NAME, that publisher's path (private_key_path, or
private_key_dir/NAME.key, else the key's private_key_path); without it, the
path every publisher of KEY uses. --out installs it elsewhere. The path is
absolute, outside the repository; the file is mode 0600, parent directories
0700.

An existing file is never replaced unless --force is given (then it is
replaced atomically, still 0600). The secret is checked before anything is
written, and only that one file ever holds it. A passphrase-protected SSH
key is unlocked by asking on the terminal.

To install every key of a publisher and configure Flox, use "keyform
publisher setup NAME".`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o unsealOpts
			fs.StringVar(&o.identity, "identity", "", "age identity `FILE` or SSH private key to decrypt with")
			fs.StringVar(&o.publisher, "publisher", "", "install at the path publisher `NAME` keeps the key at")
			fs.StringVar(&o.out, "out", "", "absolute `path` to install the key at instead")
			fs.BoolVar(&o.force, "force", false, "replace an existing file at the path")
			return func(e *cli.Env, args []string) error { return runUnseal(e, o, args) }
		},
	}
}

type unsealOpts struct {
	identity, publisher, out string
	force                    bool
}

func runUnseal(e *cli.Env, o unsealOpts, args []string) error {
	switch {
	case len(args) != 1:
		return cli.Usagef("unseal takes one KEY")
	case o.identity == "":
		return cli.Usagef("unseal needs --identity FILE: your age identity file or SSH private key")
	case o.out != "" && o.publisher != "":
		return cli.Usagef("unseal: --out and --publisher exclude each other")
	case o.out != "" && !filepath.IsAbs(o.out):
		return cli.Usagef("unseal: --out %q must be an absolute path, so that nix and flox read the same file wherever they run", o.out)
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
	ids := func() (*seal.Identities, error) { return readIdentities(e, o.identity) }
	return keyFiles(e).Unseal(e.Stdout, p, k, seal.Unseal{Out: o.out, Publisher: o.publisher, Force: o.force}, ids)
}
