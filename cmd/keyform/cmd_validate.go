package main

import (
	"flag"
	"fmt"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/schema"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:  "validate",
		Short: "check the policy for errors",
		Long: `Loads every *.hcl file of the policy directory, resolves references and
checks the rules (key names, public keys, paths, expiry). Prints each problem
with its file, line and a source snippet. Exit status 0 when the policy is
valid (warnings allowed), 2 when it is not.

Expiry: once an active key's expires date has passed (at the end of that
day, UTC), validate, check and plan fail, so that CI forces the rotation
("keyform rotate KEY", then "keyform retire KEY"); expiry_warning_days
before, they warn. Machines keep trusting the key until it is retired, so
every other command keeps working: render warns, the commands that involve
the key (apply, verify, render --stdout, seal, reseal, unseal, keys check,
publisher setup and flox) warn about it, and those that do not say
nothing. "keys list" shows the key as expired.`,
		Setup: func(*flag.FlagSet) cli.RunFunc { return runValidate },
	}
}

func runValidate(e *cli.Env, args []string) error {
	if len(args) > 0 {
		return cli.Usagef("validate takes no arguments")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "policy valid: %s, %s, %s\n",
		cli.Plural(len(p.Catalogs), "catalog", "catalogs"), cli.Plural(len(p.Keys), "key", "keys"), cli.Plural(len(p.Targets), "target", "targets"))
	return nil
}
