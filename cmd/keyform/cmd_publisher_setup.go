package main

import (
	"flag"
	"path/filepath"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/publisher"
	"github.com/keyform/keyform/seal"
)

func publisherSetupCommand() *cli.Command {
	return &cli.Command{
		Name:  "publisher setup",
		Args:  "NAME [--identity FILE] [--out-dir ABSDIR] [--force]",
		Short: "install a publisher's keys from their sealed files and configure Flox",
		Long: `Sets up a publisher's machine in one step:

  1. unseals each of the publisher's keys with --identity (your age identity
     file or SSH private key) to where the publisher keeps it: its
     private_key_path, or private_key_dir/NAME.key (NAME: the Nix key name),
     else the key's private_key_path; mode 0600. --out-dir DIR installs them
     as DIR/NAME.key instead. A key already installed there is checked
     instead (--force replaces it);
  2. proves each installed key matches its public key (as "keys check");
  3. with flox = true, makes the publisher's default key (the first it
     lists) Flox's signing key: unless Flox's flox.toml already names it,
     runs "flox config --set publish.signing_private_key PATH" when flox is
     on PATH, and prints the command otherwise.

Run it again at any time: it only checks what is already in place.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o setupOpts
			fs.StringVar(&o.identity, "identity", "", "age identity `FILE` or SSH private key to unseal with")
			fs.StringVar(&o.outDir, "out-dir", "", "install the keys in `DIR` (absolute) instead of the policy's paths")
			fs.BoolVar(&o.force, "force", false, "replace key files that already exist")
			return func(e *cli.Env, args []string) error { return runPublisherSetup(e, o, args) }
		},
	}
}

type setupOpts struct {
	identity, outDir string
	force            bool
}

func runPublisherSetup(e *cli.Env, o setupOpts, args []string) error {
	switch {
	case len(args) != 1:
		return cli.Usagef("publisher setup takes one publisher NAME")
	case o.outDir != "" && !filepath.IsAbs(o.outDir):
		return cli.Usagef("publisher setup: --out-dir %q must be an absolute path, so that nix and flox read the same files wherever they run", o.outDir)
	}
	p, err := loadPolicy(e, involvedOptions)
	if err != nil {
		return err
	}
	pub, err := p.FindPublisher(args[0])
	if err != nil {
		return err
	}
	warnExpired(e, p.KeysOf(pub)...)
	s := publisher.Setup{Dir: e.Path("."), OutDir: o.outDir, Force: o.force, Files: keyFiles(e), Flox: publisher.ExecFlox(e.Dir, e.Stdout, e.Stderr)}
	if o.identity != "" {
		s.Identities = func() (*seal.Identities, error) { return readIdentities(e, o.identity) }
	}
	return s.Run(e.Stdout, e, p, pub)
}
