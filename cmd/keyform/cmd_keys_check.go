package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
)

func keysCheckCommand() *command {
	return &command{
		name:  "keys check",
		args:  "KEY [--secret FILE]",
		short: "prove that a private key file matches the key's committed public key",
		long: `Reads the private key of KEY from its private_key_path (or --secret FILE),
signs a random message with it and verifies the signature with the public key
in the policy. Exit status 0: it matches; 1: it is another key; 2: it cannot
be read or checked. The secret is never printed.

It also warns when the file is readable by group or others, and refuses a
file inside the policy's git work tree, where it could be committed.`,
		setup: func(fs *flag.FlagSet) runFunc {
			secret := fs.String("secret", "", "read the private key from `FILE` instead of the key's private_key_path")
			return func(e *env, args []string) error { return runKeysCheck(e, *secret, args) }
		},
	}
}

func runKeysCheck(e *env, secret string, args []string) error {
	if len(args) != 1 {
		return usagef("keys check takes one KEY")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	k, err := generatedKey(p, args[0])
	if err != nil {
		return err
	}
	path := secret
	if path == "" {
		path = k.PrivateKeyPath
	}
	if path == "" {
		return withHint(fmt.Errorf("key %s has no private_key_path", k.Label),
			"pass the file to check: keyform keys check %s --secret /path/to/key", k.Label)
	}
	if path, err = filepath.Abs(e.path(path)); err != nil {
		return err
	}
	res, err := checkSecretFile(e, k, path)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, res.message)
	if !res.match {
		return errDiffers
	}
	return nil
}

type secretCheck struct {
	match   bool
	message string // one line for stdout; never holds key material
}

// checkSecretFile reads the Nix secret key at path (absolute) and proves
// that it belongs to k's public key by signing and verifying a random
// message. Errors are for files that cannot be checked at all.
func checkSecretFile(e *env, k *policy.Key, path string) (secretCheck, error) {
	if err := checkOutsideRepo(e, path); err != nil {
		return secretCheck{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return secretCheck{}, withHint(fmt.Errorf("key %s: %w", k.Label, unwrapPathError(err, path)),
			"install the key first (keyform unseal %s --identity FILE), or pass the file with --secret", k.Label)
	}
	if !fi.Mode().IsRegular() {
		return secretCheck{}, fmt.Errorf("key %s: %s is not a regular file", k.Label, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		e.warnf("%s is readable by group or others (mode %04o); run: chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return secretCheck{}, fmt.Errorf("key %s: %w", k.Label, unwrapPathError(err, path))
	}
	sk, err := keys.ParseSecretKey(string(data))
	clear(data)
	if err != nil {
		// keys' errors never echo key material.
		return secretCheck{}, withHint(fmt.Errorf("key %s: %s is not a Nix secret key: %v", k.Label, path, err),
			"a Nix secret key file holds one line NAME:BASE64, as written by \"nix key generate-secret\" or \"keyform keygen\"")
	}
	return proveKey(e, k, sk, path)
}

// proveKey checks sk against k's committed public key by signing a fresh
// random message and verifying it, which is what a substituter will do
// with the signatures sk makes.
func proveKey(e *env, k *policy.Key, sk *keys.SecretKey, where string) (secretCheck, error) {
	pk, err := keys.ParsePublicKey(k.PublicKey)
	if err != nil {
		return secretCheck{}, fmt.Errorf("key %s: %w", k.Label, err)
	}
	msg := make([]byte, 32)
	if _, err := io.ReadFull(e.rand, msg); err != nil {
		return secretCheck{}, fmt.Errorf("read random message: %w", err)
	}
	msg = append([]byte("keyform keys check "+k.Label+" "), msg...)
	got := sk.Public()
	if pk.Verify(msg, sk.Sign(msg)) && got.Equal(pk) {
		return secretCheck{true, fmt.Sprintf("%s: %s matches %s (%s)", k.Label, where, pk.Name, pk.Fingerprint())}, nil
	}
	if got.Name != pk.Name {
		return secretCheck{false, fmt.Sprintf("%s: %s does not match: it holds key %q (%s), but the policy's key is %q (%s)", k.Label, where, got.Name, got.Fingerprint(), pk.Name, pk.Fingerprint())}, nil
	}
	return secretCheck{false, fmt.Sprintf("%s: %s does not match: it holds another key named %q (%s); the policy's public key has fingerprint %s", k.Label, where, got.Name, got.Fingerprint(), pk.Fingerprint())}, nil
}

// checkOutsideRepo refuses private key paths inside the policy directory
// or its git work tree, where they could be committed.
func checkOutsideRepo(e *env, path string) error {
	cwd, err := policyDir(e)
	if err != nil {
		return err
	}
	target := path
	if real, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		target = filepath.Join(real, filepath.Base(path))
	}
	for _, root := range []struct{ dir, what string }{{workTree(cwd), "git work tree"}, {cwd, "policy directory"}} {
		if root.dir == "" {
			continue
		}
		if rel, err := filepath.Rel(root.dir, target); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return withHint(fmt.Errorf("%s is inside the %s %s, where a private key could be committed", path, root.what, root.dir),
				"keep private keys outside the repository, for example under ~/.config/keyform/ or /var/lib/keyform/")
		}
	}
	return nil
}

// unwrapPathError turns "open /x: no such file or directory" into
// "/x does not exist" and the like.
func unwrapPathError(err error, path string) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s is not readable (permission denied)", path)
	}
	return err
}
