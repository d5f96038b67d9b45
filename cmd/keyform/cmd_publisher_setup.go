package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/flox"
	"github.com/keyform/keyform/seal"
)

func publisherSetupCommand() *command {
	return &command{
		name:  "publisher setup",
		args:  "NAME [--identity FILE] [--out-dir ABSDIR] [--force]",
		short: "install a publisher's keys from their sealed files and configure Flox",
		long: `Sets up a publisher's machine in one step:

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
		setup: func(fs *flag.FlagSet) runFunc {
			var o setupOpts
			fs.StringVar(&o.identity, "identity", "", "age identity `FILE` or SSH private key to unseal with")
			fs.StringVar(&o.outDir, "out-dir", "", "install the keys in `DIR` (absolute) instead of the policy's paths")
			fs.BoolVar(&o.force, "force", false, "replace key files that already exist")
			return func(e *env, args []string) error { return runPublisherSetup(e, o, args) }
		},
	}
}

type setupOpts struct {
	identity, outDir string
	force            bool
}

// setupStep is one key of the publisher: to install, or to check in place.
type setupStep struct {
	key     *policy.Key
	path    string
	install *keys.SecretKey // nil when the installed file is only checked
}

func runPublisherSetup(e *env, o setupOpts, args []string) error {
	switch {
	case len(args) != 1:
		return usagef("publisher setup takes one publisher NAME")
	case o.outDir != "" && !filepath.IsAbs(o.outDir):
		return usagef("publisher setup: --out-dir %q must be an absolute path, so that nix and flox read the same files wherever they run", o.outDir)
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
	// Decrypt and check everything first: a failure leaves nothing written.
	steps, err := setupSteps(e, p, pub, o)
	if err != nil {
		return err
	}
	mismatch := false
	for _, s := range steps {
		if s.install != nil {
			if err := installKey(e, s.key, s.install, s.path, o.force); err != nil {
				return err
			}
			continue
		}
		proof, err := proveKeyFile(e, s.key, s.path)
		if err != nil {
			return err
		}
		if !proof.Match {
			mismatch = true
			fmt.Fprintf(e.stdout, "%s: %s %s\n", s.key.Label, s.path, proof)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: already installed at %s; %s\n", s.key.Label, s.path, proof)
	}
	if mismatch {
		return withHint(fmt.Errorf("publisher %s: a key file in place is not the policy's key", pub.Label),
			"move it away, or rerun with --force --identity FILE to replace it from the sealed key")
	}
	if o.outDir != "" {
		e.notef("the policy does not keep %s's keys in %s; to make it the place, set private_key_dir = %q in publisher %q", pub.Label, pub.PrivateKeyDir, pub.PrivateKeyDir, pub.Label)
	}
	if !pub.Flox {
		return nil
	}
	return configureFlox(e, p, pub)
}

// setupSteps decides, for each key of pub, whether to check the installed
// file or to unseal it, and unseals those in memory.
func setupSteps(e *env, p *policy.Policy, pub *policy.Publisher, o setupOpts) ([]setupStep, error) {
	var steps []setupStep
	var ids *seal.Identities
	for _, label := range pub.Keys {
		k, err := p.FindGeneratedKey(label)
		if err != nil {
			return nil, err
		}
		path := pub.KeyPath(k)
		if path == "" {
			return nil, withHint(fmt.Errorf("publisher %s: key %s has no private_key_path, so there is nowhere to install it", pub.Label, k.Label),
				"pass --out-dir DIR, or set private_key_dir on publisher %q or private_key_path on the key", pub.Label)
		}
		if err := checkOutside(e, path); err != nil {
			return nil, err
		}
		step := setupStep{key: k, path: path}
		if _, err := os.Lstat(path); err == nil && !o.force {
			steps = append(steps, step)
			continue
		}
		if err := secretfile.CheckWritable(path); err != nil {
			return nil, withHint(fmt.Errorf("publisher %s: key %s: %w", pub.Label, k.Label, err), "%s", writableHint(pub, o))
		}
		if o.identity == "" {
			return nil, withHint(fmt.Errorf("publisher %s: key %s is not installed at %s, and unsealing it needs --identity", pub.Label, k.Label, path),
				"pass your age identity file or SSH private key: keyform publisher setup %s --identity ~/.ssh/id_ed25519", pub.Label)
		}
		if ids == nil {
			// Read once, so a passphrase is asked for at most once.
			if ids, err = readIdentities(e, o.identity); err != nil {
				return nil, err
			}
		}
		if step.install, err = seal.OpenKey(e.path("."), k, ids); err != nil {
			return nil, err
		}
		steps = append(steps, step)
	}
	return steps, nil
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
func configureFlox(e *env, p *policy.Policy, pub *policy.Publisher) error {
	k := p.Key(pub.DefaultKey)
	if err := setFloxKey(e, pub, k, pub.KeyPath(k)); err != nil {
		return err
	}
	for _, o := range p.KeysOf(pub) {
		if o.Label != pub.DefaultKey {
			fmt.Fprintf(e.stdout, "to sign with %s instead (catalog %s): %s PACKAGE\n", o.Label, orDash(o.Catalog), flox.PublishCommand(pub.KeyPath(o)))
		}
	}
	return nil
}

// setFloxKey runs "flox config --set" for path, unless the flox.toml it
// writes already names path, or flox is not installed (then it prints the
// command).
func setFloxKey(e *env, pub *policy.Publisher, k *policy.Key, path string) error {
	cfg := flox.UserConfigFile(os.Getenv)
	have, err := flox.ConfiguredKey(cfg)
	if err != nil {
		e.warnf("%s", err)
	}
	if have == path {
		fmt.Fprintf(e.stdout, "flox already signs with %s: %s sets %s\n", k.Label, cfg, flox.ConfigKey)
		return nil
	}
	cmdline := flox.ConfigCommand(path)
	floxBin, err := exec.LookPath("flox")
	if err != nil {
		fmt.Fprintf(e.stdout, "flox is not on PATH; once it is, make %s Flox's signing key with:\n  %s\n", k.Label, cmdline)
		return nil
	}
	if have != "" {
		e.notef("%s names %s as Flox's signing key; replacing it with %s", cfg, have, path)
	}
	cmd := exec.Command(floxBin, flox.ConfigArgs(path)...)
	cmd.Dir = e.dir
	cmd.Stdout, cmd.Stderr = e.stdout, e.stderr
	if err := cmd.Run(); err != nil {
		return withHint(fmt.Errorf("%s: %w", cmdline, err), "run it yourself, or set it in flox.toml: keyform publisher flox %s --toml", pub.Label)
	}
	fmt.Fprintf(e.stdout, "ran: %s\n", cmdline)
	return nil
}
