package main

import (
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/seal"
)

// This file is what the commands that handle private keys on this machine
// share (keys check, keygen, rotate, seal, reseal, unseal, publisher
// setup, resign): where key files may go and the passphrase prompt. The
// rules are in internal/secretfile and seal (seal.KeyFiles).

// checkOutside refuses a private key path inside the policy directory or
// its git work tree, where the key could be committed.
func checkOutside(e *cli.Env, path string) error {
	dir, err := policyDir(e)
	if err != nil {
		return err
	}
	return secretfile.CheckOutside(path, dir, workTree(dir))
}

// keyFiles handles the private key files on this machine for the
// command (seal.KeyFiles).
func keyFiles(e *cli.Env) seal.KeyFiles {
	return seal.KeyFiles{Outside: func(path string) error { return checkOutside(e, path) }, Path: e.Path, Rand: e.Rand, Rep: e}
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
