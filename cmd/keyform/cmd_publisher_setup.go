package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/flox"
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
	if o.outDir != "" {
		pub = pub.WithKeyDir(filepath.Clean(o.outDir))
	}
	var ids func() (*seal.Identities, error)
	if o.identity != "" {
		ids = func() (*seal.Identities, error) { return readIdentities(e, o.identity) }
	}
	// Decrypt and check everything first: a failure leaves nothing written.
	plan, err := seal.PlanInstall(e.Path("."), p, pub, o.force, func(path string) error { return checkOutside(e, path) }, ids)
	var nw *secretfile.NotWritableError
	if errors.As(err, &nw) {
		return hint.Wrap(err, "%s", writableHint(pub, o))
	} else if err != nil {
		return err
	}
	if err := install(e, pub, plan, o.force); err != nil {
		return err
	}
	if o.outDir != "" {
		e.Notef("the policy does not keep %s's keys in %s; to make it the place, set private_key_dir = %q in publisher %q", pub.Label, pub.PrivateKeyDir, pub.PrivateKeyDir, pub.Label)
	}
	if !pub.Flox {
		return nil
	}
	return configureFlox(e, p, pub)
}

// install installs the keys the plan unsealed and proves the others,
// failing when a file in place holds another key.
func install(e *cli.Env, pub *policy.Publisher, plan []seal.Install, force bool) error {
	mismatch := false
	for _, in := range plan {
		if in.Secret != nil {
			if err := installKey(e, in.Key, in.Secret, in.Path, force); err != nil {
				return err
			}
			continue
		}
		proof, err := proveKeyFile(e, in.Key, in.Path)
		if err != nil {
			return err
		}
		if !proof.Match {
			mismatch = true
			fmt.Fprintf(e.Stdout, "%s: %s %s\n", in.Key.Label, in.Path, proof)
			continue
		}
		fmt.Fprintf(e.Stdout, "%s: already installed at %s; %s\n", in.Key.Label, in.Path, proof)
	}
	if mismatch {
		return hint.Wrap(fmt.Errorf("publisher %s: a key file in place is not the policy's key", pub.Label),
			"move it away, or rerun with --force --identity FILE to replace it from the sealed key")
	}
	return nil
}

// writableHint suggests a directory the user can write, or sudo.
func writableHint(pub *policy.Publisher, o setupOpts) string {
	dir := "$HOME/.config/keyform"
	if cfg, err := os.UserConfigDir(); err == nil {
		dir = filepath.Join(cfg, "keyform")
	}
	if o.outDir != "" {
		return fmt.Sprintf("choose a directory you can write, such as --out-dir %s", dir)
	}
	return fmt.Sprintf("install them where you can write: keyform publisher setup %s --out-dir %s (and set private_key_dir there in the policy); or run it with sudo", pub.Label, dir)
}

// configureFlox makes the publisher's default key Flox's signing key and
// says how to sign with its other keys.
func configureFlox(e *cli.Env, p *policy.Policy, pub *policy.Publisher) error {
	k := p.Key(pub.DefaultKey)
	if err := setFloxKey(e, pub, k, pub.KeyPath(k)); err != nil {
		return err
	}
	for _, o := range p.KeysOf(pub) {
		if o.Label != pub.DefaultKey {
			fmt.Fprintf(e.Stdout, "to sign with %s instead (catalog %s): %s PACKAGE\n", o.Label, orDash(o.Catalog), flox.PublishCommand(pub.KeyPath(o)))
		}
	}
	return nil
}

// setFloxKey runs "flox config --set" for path, unless the flox.toml it
// writes already names path, or flox is not installed (then it prints the
// command).
func setFloxKey(e *cli.Env, pub *policy.Publisher, k *policy.Key, path string) error {
	cfg := flox.UserConfigFile(os.Getenv)
	have, err := flox.ConfiguredKey(cfg)
	if err != nil {
		e.Warnf("%s", err)
	}
	if have == path {
		fmt.Fprintf(e.Stdout, "flox already signs with %s: %s sets %s\n", k.Label, cfg, flox.ConfigKey)
		return nil
	}
	cmdline := flox.ConfigCommand(path)
	floxBin, err := exec.LookPath("flox")
	if err != nil {
		fmt.Fprintf(e.Stdout, "flox is not on PATH; once it is, make %s Flox's signing key with:\n  %s\n", k.Label, cmdline)
		return nil
	}
	if have != "" {
		e.Notef("%s names %s as Flox's signing key; replacing it with %s", cfg, have, path)
	}
	cmd := exec.Command(floxBin, flox.ConfigArgs(path)...)
	cmd.Dir = e.Dir
	cmd.Stdout, cmd.Stderr = e.Stdout, e.Stderr
	if err := cmd.Run(); err != nil {
		return hint.Wrap(fmt.Errorf("%s: %w", cmdline, err), "run it yourself, or set it in flox.toml: keyform publisher flox %s --toml", pub.Label)
	}
	fmt.Fprintf(e.Stdout, "ran: %s\n", cmdline)
	return nil
}
