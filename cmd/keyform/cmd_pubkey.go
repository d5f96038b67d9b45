package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/keyform/keyform/keys"
)

func pubkeyCommand() *command {
	return &command{
		name:  "pubkey",
		args:  "< SECRETFILE",
		short: "print the public key of a secret key read from stdin",
		long: `Reads a Nix secret key ("NAME:BASE64") from standard input and prints its
public key, like "nix key convert-secret-to-public" (plus a newline).`,
		setup: func(*flag.FlagSet) runFunc { return runPubkey },
	}
}

func runPubkey(e *env, args []string) error {
	if len(args) > 0 {
		return usagef("pubkey takes no arguments; it reads the secret key from standard input")
	}
	b, err := io.ReadAll(io.LimitReader(e.stdin, 1<<16))
	if err != nil {
		return err
	}
	sk, err := keys.ParseSecretKey(string(b))
	if err != nil {
		// keys' errors never echo the input.
		return withHint(fmt.Errorf("standard input is not a Nix secret key: %w", err),
			"pipe a secret key file in: keyform pubkey < /path/to/key.sec")
	}
	fmt.Fprintln(e.stdout, sk.Public().String())
	return nil
}
