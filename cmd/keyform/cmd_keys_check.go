package main

import (
	"flag"
	"fmt"
	"path/filepath"

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
	proof, err := proveKeyFile(e, k, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %s %s\n", k.Label, path, proof)
	if !proof.Match {
		return errDiffers
	}
	return nil
}
