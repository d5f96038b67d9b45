package main

import (
	"flag"
	"fmt"

	"github.com/keyform/keyform/schema"
)

func validateCommand() *command {
	return &command{
		name:  "validate",
		short: "check the policy for errors",
		long: `Loads every *.hcl file of the policy directory, resolves references and
checks the rules (key names, public keys, paths, expiry). Prints each problem
with its file, line and a source snippet. Exit status 0 when the policy is
valid (warnings allowed), 2 when it is not.`,
		setup: func(*flag.FlagSet) runFunc { return runValidate },
	}
}

func runValidate(e *env, args []string) error {
	if len(args) > 0 {
		return usagef("validate takes no arguments")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "policy valid: %s, %s, %s\n",
		plural(len(p.Catalogs), "catalog", "catalogs"), plural(len(p.Keys), "key", "keys"), plural(len(p.Targets), "target", "targets"))
	return nil
}
