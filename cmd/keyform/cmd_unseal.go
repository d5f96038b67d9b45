package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"filippo.io/age"
	"golang.org/x/term"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
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
	if err := checkOutsideRepo(e, out); err != nil {
		return err
	}
	if !o.force {
		if err := refuseExisting(k, out); err != nil {
			return err
		}
	}
	ids, err := readIdentities(e, o.identity)
	if err != nil {
		return err
	}
	sk, err := openSealedKey(e, k, ids, o.identity)
	if err != nil {
		return err
	}
	return installSecretKey(e, k, sk, out, o.force)
}

// refuseExisting reports an existing file at a private key path, which
// keyform never overwrites without --force.
func refuseExisting(k *policy.Key, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return withHint(fmt.Errorf("%s already exists; keyform never overwrites a private key", path),
			"check what it holds with \"keyform keys check %s --secret %s\"; pass --force to replace it", k.Label, path)
	}
	return nil
}

// readIdentities reads an age identity file or SSH private key.
func readIdentities(e *env, path string) ([]age.Identity, error) {
	fi, err := os.Stat(e.path(path))
	if err == nil && fi.Size() > 1<<20 {
		return nil, fmt.Errorf("identity file %s is larger than 1 MiB; it is not an identity", path)
	}
	data, err := os.ReadFile(e.path(path))
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", unwrapPathError(err, path))
	}
	defer clear(data)
	ids, err := seal.ParseIdentities(data, askPassphrase(e, path))
	if err != nil {
		return nil, withHint(fmt.Errorf("identity file %s: %w", path, err),
			"pass the private half of your recipient: an age identity file (age-keygen -o FILE) or an SSH private key such as ~/.ssh/id_ed25519")
	}
	return ids, nil
}

// askPassphrase asks for an SSH key's passphrase on the terminal, without
// echo. With no terminal on standard input there is no one to ask.
func askPassphrase(e *env, path string) func() ([]byte, error) {
	return func() ([]byte, error) {
		f, ok := e.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil, fmt.Errorf("%s needs its passphrase, and standard input is not a terminal to ask for it", path)
		}
		fmt.Fprintf(e.stderr, "Enter passphrase for %s: ", path)
		pass, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return pass, err
	}
}

// openSealedKey decrypts k's sealed file and makes sure it holds the key
// whose public key the policy commits to.
func openSealedKey(e *env, k *policy.Key, ids []age.Identity, idPath string) (*keys.SecretKey, error) {
	f, err := os.Open(e.path(k.SealedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, withHint(fmt.Errorf("key %s is not sealed: %s does not exist", k.Label, k.SealedFile),
			"someone who holds the private key runs \"keyform seal %s\" and commits %s", k.Label, k.SealedFile)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sk, err := seal.Open(f, ids...)
	switch {
	case errors.Is(err, seal.ErrNoMatch):
		return nil, withHint(fmt.Errorf("cannot unseal %s with %s: %w", k.Label, idPath, err),
			"%s lists who can; to be added, put your public key in a publisher's recipients and have someone who can unseal %s run \"keyform reseal %s\"",
			seal.RecordPath(k.SealedFile), k.Label, k.Label)
	case errors.Is(err, seal.ErrPassphrase):
		return nil, withHint(fmt.Errorf("cannot unseal %s with %s: %w", k.Label, idPath, err),
			"run keyform in a terminal to type the passphrase, or use an age identity (age-keygen) as your recipient")
	case err != nil:
		return nil, fmt.Errorf("cannot unseal %s from %s: %w", k.Label, k.SealedFile, err)
	}
	if err := sealedMatchesPolicy(k, sk, k.SealedFile); err != nil {
		return nil, err
	}
	return sk, nil
}

// sealedMatchesPolicy refuses a secret that is not the policy's key, for
// example one sealed before the key was replaced.
func sealedMatchesPolicy(k *policy.Key, sk *keys.SecretKey, from string) error {
	pk, err := keys.ParsePublicKey(k.PublicKey)
	if err != nil {
		return err
	}
	if got := sk.Public(); !got.Equal(pk) {
		return withHint(fmt.Errorf("%s holds key %q (%s), not key %s's committed public key %q (%s); nothing was written", from, got.Name, got.Fingerprint(), k.Label, pk.Name, pk.Fingerprint()),
			"the key was replaced after it was sealed: whoever holds the new private key runs \"keyform seal %s\"", k.Label)
	}
	return nil
}

// installSecretKey writes sk to path, mode 0600: with O_EXCL, or atomically
// over an existing file with force. It then reads the file back and proves
// it matches the policy, removing it if not.
func installSecretKey(e *env, k *policy.Key, sk *keys.SecretKey, path string, force bool) error {
	if !force {
		if err := writeSecretKey(e, path, sk, nil, true); err != nil {
			return fmt.Errorf("key %s: %w", k.Label, err)
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		secret := sk.Encode()
		err := atomicfile.WriteFile(path, secret, 0o600)
		clear(secret)
		if err != nil {
			return fmt.Errorf("key %s: %w", k.Label, err)
		}
	}
	res, err := checkSecretFile(e, k, path)
	if err == nil && !res.match {
		err = errors.New(res.message)
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("key %s: the installed file does not check out, so it was removed: %w", k.Label, err)
	}
	fmt.Fprintf(e.stdout, "%s: installed %s (0600); %s\n", k.Label, path, matchSuffix(res.message, k.Label, path))
	return nil
}

// matchSuffix drops the "LABEL: PATH " prefix of a check message.
func matchSuffix(msg, label, path string) string {
	prefix := label + ": " + path + " "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}
