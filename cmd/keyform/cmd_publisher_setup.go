package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/flox"
	"github.com/keyform/keyform/schema"
	"github.com/keyform/keyform/seal"
)

func publisherSetupCommand() *command {
	return &command{
		name:  "publisher setup",
		args:  "NAME [--identity FILE] [--force]",
		short: "install a publisher's keys from their sealed files and configure Flox",
		long: `Sets up a publisher's machine in one step:

  1. unseals each of the publisher's keys with --identity (your age identity
     file or SSH private key) to its absolute path: the publisher's
     private_key_path, else the key's; mode 0600. A key already installed
     there is checked instead (--force replaces it);
  2. proves each installed key matches its public key (as "keys check");
  3. with flox = true, runs "flox config --set publish.signing_private_key
     PATH" for the publisher's default key (the first it lists) when flox is
     on PATH, and prints the command otherwise.

Run it again at any time: it only checks what is already in place.`,
		setup: func(fs *flag.FlagSet) runFunc {
			var o setupOpts
			fs.StringVar(&o.identity, "identity", "", "age identity `FILE` or SSH private key to unseal with")
			fs.BoolVar(&o.force, "force", false, "replace key files that already exist")
			return func(e *env, args []string) error { return runPublisherSetup(e, o, args) }
		},
	}
}

type setupOpts struct {
	identity string
	force    bool
}

// setupStep is one key of the publisher: to install, or to check in place.
type setupStep struct {
	key     *policy.Key
	path    string
	install *keys.SecretKey // nil when the installed file is only checked
}

func runPublisherSetup(e *env, o setupOpts, args []string) error {
	if len(args) != 1 {
		return usagef("publisher setup takes one publisher NAME")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	pub, err := findPublisher(p, args[0])
	if err != nil {
		return err
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
		k, err := generatedKey(p, label)
		if err != nil {
			return nil, err
		}
		path := pub.KeyPath(k)
		if path == "" {
			return nil, withHint(fmt.Errorf("publisher %s: key %s has no private_key_path, so there is nowhere to install it", pub.Label, k.Label),
				"set private_key_path on the key or on publisher %q, or install it by hand: keyform unseal %s --identity FILE --out /absolute/path", pub.Label, k.Label)
		}
		if err := checkOutside(e, path); err != nil {
			return nil, err
		}
		step := setupStep{key: k, path: path}
		if _, err := os.Lstat(path); err == nil && !o.force {
			steps = append(steps, step)
			continue
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

// configureFlox makes the publisher's default key Flox's signing key, by
// running flox itself when it is installed.
func configureFlox(e *env, p *policy.Policy, pub *policy.Publisher) error {
	k := p.Key(pub.DefaultKey)
	path := pub.KeyPath(k)
	cmdline := flox.ConfigCommand(path)
	floxBin, err := exec.LookPath("flox")
	if err != nil {
		fmt.Fprintf(e.stdout, "flox is not on PATH; once it is, make %s Flox's signing key with:\n  %s\n", k.Label, cmdline)
	} else {
		cmd := exec.Command(floxBin, flox.ConfigArgs(path)...)
		cmd.Dir = e.dir
		cmd.Stdout, cmd.Stderr = e.stdout, e.stderr
		if err := cmd.Run(); err != nil {
			return withHint(fmt.Errorf("%s: %w", cmdline, err), "run it yourself, or set it in flox.toml: keyform publisher flox %s --toml", pub.Label)
		}
		fmt.Fprintf(e.stdout, "ran: %s\n", cmdline)
	}
	for _, label := range pub.Keys {
		if label == pub.DefaultKey {
			continue
		}
		o := p.Key(label)
		fmt.Fprintf(e.stdout, "to sign with %s instead (catalog %s): %s PACKAGE\n", o.Label, orDash(o.Catalog), flox.PublishCommand(pub.KeyPath(o)))
	}
	return nil
}
