package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/seal"
)

// This file is what the commands that handle private keys on this machine
// share (keys check, keygen, rotate, seal, reseal, unseal, publisher
// setup). The rules are in internal/secretfile and seal.

// checkOutside refuses a private key path inside the policy directory or
// its git work tree, where the key could be committed.
func checkOutside(e *cli.Env, path string) error {
	dir, err := policyDir(e)
	if err != nil {
		return err
	}
	return secretfile.CheckOutside(path, dir, workTree(dir))
}

// proveKeyFile proves that the secret key file at path (absolute) belongs
// to k's public key (secretfile.Check), warning when others can read it.
// Errors are for files that cannot be checked at all.
func proveKeyFile(e *cli.Env, k *policy.Key, path string) (*secretfile.Proof, error) {
	if err := checkOutside(e, path); err != nil {
		return nil, err
	}
	pk, err := keys.ParsePublicKey(k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.Label, err)
	}
	proof, err := secretfile.Check(path, pk, e.Rand)
	if proof != nil && secretfile.Exposed(proof.Perm) {
		e.Warnf("%s is readable by group or others (mode %04o); run: chmod 600 %s", path, proof.Perm, path)
	}
	var pe *secretfile.PathError
	if proof == nil && errors.As(err, &pe) {
		return nil, hint.Wrap(fmt.Errorf("key %s: %w", k.Label, err),
			"install the key first (keyform unseal %s --identity FILE), or pass the file with --secret", k.Label)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.Label, err)
	}
	return proof, nil
}

// secretWriter writes secret key files, warning about directories others
// can read.
func secretWriter(e *cli.Env, sync bool) *secretfile.Writer {
	return &secretfile.Writer{Sync: sync, Warn: func(dir string, perm fs.FileMode) {
		e.Warnf("%s is readable by others (mode %04o); consider chmod 700", dir, perm)
	}}
}

// installKey installs k's secret sk at path (absolute), replacing a file
// there only with force, and reports it.
func installKey(e *cli.Env, k *policy.Key, sk *keys.SecretKey, path string, force bool) error {
	if err := secretWriter(e, true).Install(path, sk, force); err != nil {
		return fmt.Errorf("key %s: %w", k.Label, err)
	}
	pk := sk.Public()
	fmt.Fprintf(e.Stdout, "%s: installed %s (0600); matches %s (%s)\n", k.Label, path, pk.Name, pk.Fingerprint())
	return nil
}

// readIdentities reads an age identity file or SSH private key, asking
// for an SSH key's passphrase on the terminal, without echo.
func readIdentities(e *cli.Env, path string) (*seal.Identities, error) {
	return seal.ReadIdentities(e.Path(path), func() ([]byte, error) {
		f, ok := e.Stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil, fmt.Errorf("%s needs its passphrase, and standard input is not a terminal to ask for it", path)
		}
		fmt.Fprintf(e.Stderr, "Enter passphrase for %s: ", path)
		// The prompt has no line break, so redact's Writer holds it back.
		if f, ok := e.Stderr.(interface{ Flush() error }); ok {
			f.Flush()
		}
		pass, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.Stderr)
		return pass, err
	})
}

// warnRotation says that publishers who lose access may still hold the key,
// and that a removed recipient key of a remaining publisher matters too if
// it was lost.
func warnRotation(e *cli.Env, st *seal.Status) {
	k := st.Key
	if lost := st.LostAccess(); len(lost) > 0 {
		e.Warnf("%s: %s could decrypt %s before (git history keeps the old file) and may still hold the key; rotate it: keyform rotate %s",
			k.Label, strings.Join(lost, ", "), k.SealedFile, k.Label)
	}
	if re := st.Rekeyed(); len(re) > 0 {
		e.Notef("%s: a recipient key of %s was removed; it can still open older versions of %s, so if it was lost or stolen, rotate: keyform rotate %s",
			k.Label, strings.Join(re, ", "), k.SealedFile, k.Label)
	}
}
