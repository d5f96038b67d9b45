package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/keys"
)

func pubkeyCommand() *cli.Command {
	return &cli.Command{
		Name:  "pubkey",
		Args:  "< SECRETFILE",
		Short: "print the public key of a secret key read from stdin",
		Long: `Reads a Nix secret key ("NAME:BASE64") from standard input and prints its
public key, like "nix key convert-secret-to-public" (plus a newline).`,
		Setup: func(*flag.FlagSet) cli.RunFunc { return runPubkey },
	}
}

func runPubkey(e *cli.Env, args []string) error {
	if len(args) > 0 {
		return cli.Usagef("pubkey takes no arguments; it reads the secret key from standard input")
	}
	b, err := io.ReadAll(io.LimitReader(e.Stdin, 1<<16))
	if err != nil {
		return err
	}
	sk, err := keys.ParseSecretKey(string(b))
	if err != nil {
		// keys' errors never echo the input.
		return hint.Wrap(fmt.Errorf("standard input is not a Nix secret key: %w", err),
			"pipe a secret key file in: keyform pubkey < /path/to/key.sec")
	}
	fmt.Fprintln(e.Stdout, sk.Public().String())
	return nil
}
