package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/schema"
)

func keysListCommand() *cli.Command {
	return &cli.Command{
		Name:  "keys list",
		Args:  "[--json]",
		Short: "list keys, their state, fingerprint and the targets that trust them",
		Long: `Lists every declared key: label, Nix key name, state, catalog, the
fingerprint of its public key (SHA256 of the key bytes) and the targets that
trust it. The state is active, retired, pending (waiting for keygen) or
expired (active past its expires date: still trusted, rotate it). --json
prints the same as a JSON array for scripts.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			asJSON := fs.Bool("json", false, "print JSON")
			return func(e *cli.Env, args []string) error { return runKeysList(e, *asJSON, args) }
		},
	}
}

func runKeysList(e *cli.Env, asJSON bool, args []string) error {
	if len(args) > 0 {
		return cli.Usagef("keys list takes no arguments")
	}
	p, err := loadPolicy(e, schema.Options{AllowPending: true, Expiry: schema.ExpiryIgnored})
	if err != nil {
		return err
	}
	infos := p.KeyInfos(e.Now())
	if asJSON {
		return e.PrintJSON(infos)
	}
	tw := cli.NewTable(e.Stdout)
	fmt.Fprintln(tw, "KEY\tNAME\tSTATE\tCATALOG\tFINGERPRINT\tTRUSTED BY")
	for _, k := range infos {
		fp, cat, by := k.Fingerprint, k.Catalog, strings.Join(k.TrustedBy, ",")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.Label, k.Name, k.State, orDash(cat), orDash(fp), orDash(by))
	}
	return tw.Flush()
}
