package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"filippo.io/age"
	"golang.org/x/term"

	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/seal"
)

// This file is what the commands that handle private keys on this machine
// share (keys check, keygen, rotate, seal, reseal, unseal, publisher
// setup): the messages and hints around internal/secretfile and seal,
// which hold the rules.

// checkOutside refuses a private key path inside the policy directory or
// its git work tree, where the key could be committed.
func checkOutside(e *env, path string) error {
	dir, err := policyDir(e)
	if err != nil {
		return err
	}
	if err := secretfile.CheckOutside(path, dir, workTree(dir)); err != nil {
		return withHint(err, "keep private keys outside the repository, for example under ~/.config/keyform/ or /var/lib/keyform/")
	}
	return nil
}

// proveKeyFile reads the Nix secret key at path (absolute) and proves that
// it belongs to k's public key (keys.Prove). detail is the verdict for a
// message about path: "matches NAME (FINGERPRINT)" or "does not match:
// ...". Errors are for files that cannot be checked at all.
func proveKeyFile(e *env, k *policy.Key, path string) (ok bool, detail string, err error) {
	if err := checkOutside(e, path); err != nil {
		return false, "", err
	}
	perm, err := secretfile.Stat(path)
	var pe *secretfile.PathError
	switch {
	case errors.As(err, &pe):
		return false, "", withHint(fmt.Errorf("key %s: %w", k.Label, err),
			"install the key first (keyform unseal %s --identity FILE), or pass the file with --secret", k.Label)
	case err != nil:
		return false, "", fmt.Errorf("key %s: %w", k.Label, err)
	case secretfile.Exposed(perm):
		e.warnf("%s is readable by group or others (mode %04o); run: chmod 600 %s", path, perm, path)
	}
	sk, err := secretfile.Read(path)
	var fe *secretfile.FormatError
	if errors.As(err, &fe) {
		return false, "", withHint(fmt.Errorf("key %s: %w", k.Label, err),
			"a Nix secret key file holds one line NAME:BASE64, as written by \"nix key generate-secret\" or \"keyform keygen\"")
	}
	pk, perr := keys.ParsePublicKey(k.PublicKey)
	if err == nil {
		err = perr
	}
	if err == nil {
		ok, err = keys.Prove(sk, pk, e.rand)
	}
	if err != nil {
		return false, "", fmt.Errorf("key %s: %w", k.Label, err)
	}
	switch got := sk.Public(); {
	case ok:
		return true, fmt.Sprintf("matches %s (%s)", pk.Name, pk.Fingerprint()), nil
	case got.Name != pk.Name:
		return false, fmt.Sprintf("does not match: it holds key %q (%s), but the policy's key is %q (%s)", got.Name, got.Fingerprint(), pk.Name, pk.Fingerprint()), nil
	default:
		return false, fmt.Sprintf("does not match: it holds another key named %q (%s); the policy's public key has fingerprint %s", got.Name, got.Fingerprint(), pk.Fingerprint()), nil
	}
}

// secretWriter writes secret key files, warning about directories others
// can read.
func secretWriter(e *env, sync bool) *secretfile.Writer {
	return &secretfile.Writer{Sync: sync, Warn: func(dir string, perm fs.FileMode) {
		e.warnf("%s is readable by others (mode %04o); consider chmod 700", dir, perm)
	}}
}

// installKey installs k's secret sk at path (absolute), replacing a file
// there only with force, and reports it.
func installKey(e *env, k *policy.Key, sk *keys.SecretKey, path string, force bool) error {
	if err := secretWriter(e, true).Install(path, sk, force); err != nil {
		return fmt.Errorf("key %s: %w", k.Label, err)
	}
	pk := sk.Public()
	fmt.Fprintf(e.stdout, "%s: installed %s (0600); matches %s (%s)\n", k.Label, path, pk.Name, pk.Fingerprint())
	return nil
}

// readSealSecret reads the secret to seal k with from path and checks it
// is k's key.
func readSealSecret(k *policy.Key, path string) (*keys.SecretKey, error) {
	sk, err := secretfile.Read(path)
	var fe *secretfile.FormatError
	switch {
	case errors.As(err, &fe):
		return nil, fmt.Errorf("key %s: %w", k.Label, err)
	case err != nil:
		return nil, fmt.Errorf("key %s: cannot read the private key: %w", k.Label, err)
	}
	var me *seal.MismatchError
	if err := seal.CheckKey(k, sk); errors.As(err, &me) {
		return nil, withHint(fmt.Errorf("refusing to seal: %s %s; nothing was written", path, me),
			"seal the private key that belongs to %s's public key in the policy", k.Label)
	} else if err != nil {
		return nil, err
	}
	return sk, nil
}

// readIdentities reads an age identity file or SSH private key.
func readIdentities(e *env, path string) ([]age.Identity, error) {
	fi, err := os.Stat(e.path(path))
	if err == nil && fi.Size() > 1<<20 {
		return nil, fmt.Errorf("identity file %s is larger than 1 MiB; it is not an identity", path)
	}
	data, err := os.ReadFile(e.path(path))
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", &secretfile.PathError{Path: path, Err: err})
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

// openSealed decrypts k's sealed file with ids (read from idPath) and makes
// sure it holds the key whose public key the policy commits to.
func openSealed(e *env, k *policy.Key, ids []age.Identity, idPath string) (*keys.SecretKey, error) {
	sk, err := seal.OpenKey(e.path("."), k, ids...)
	var me *seal.MismatchError
	var pe *fs.PathError
	switch {
	case err == nil:
		return sk, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, withHint(fmt.Errorf("key %s is not sealed: %s does not exist", k.Label, k.SealedFile),
			"someone who holds the private key runs \"keyform seal %s\" and commits %s", k.Label, k.SealedFile)
	case errors.As(err, &me):
		return nil, withHint(fmt.Errorf("%s %s; nothing was written", k.SealedFile, me),
			"the key was replaced after it was sealed: whoever holds the new private key runs \"keyform seal %s\"", k.Label)
	case errors.As(err, &pe):
		return nil, err
	case errors.Is(err, seal.ErrNoMatch):
		return nil, withHint(fmt.Errorf("cannot unseal %s with %s: %w", k.Label, idPath, err),
			"%s lists who can; to be added, put your public key in a publisher's recipients and have someone who can unseal %s run \"keyform reseal %s\"",
			seal.RecordPath(k.SealedFile), k.Label, k.Label)
	case errors.Is(err, seal.ErrPassphrase):
		return nil, withHint(fmt.Errorf("cannot unseal %s with %s: %w", k.Label, idPath, err),
			"run keyform in a terminal to type the passphrase, or use an age identity (age-keygen) as your recipient")
	}
	return nil, fmt.Errorf("cannot unseal %s from %s: %w", k.Label, k.SealedFile, err)
}

// warnRotation says that publishers who lose access may still hold the key,
// and that a removed recipient key of a remaining publisher matters too if
// it was lost.
func warnRotation(e *env, st *seal.Status) {
	k := st.Key
	if lost := st.LostAccess(); len(lost) > 0 {
		e.warnf("%s: %s could decrypt %s before (git history keeps the old file) and may still hold the key; rotate it: keyform rotate %s",
			k.Label, strings.Join(lost, ", "), k.SealedFile, k.Label)
	}
	if re := st.Rekeyed(); len(re) > 0 {
		e.notef("%s: a recipient key of %s was removed; it can still open older versions of %s, so if it was lost or stolen, rotate: keyform rotate %s",
			k.Label, strings.Join(re, ", "), k.SealedFile, k.Label)
	}
}
