package main

import (
	"flag"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/policy"
)

func retireCommand() *cli.Command {
	return &cli.Command{
		Name:  "retire",
		Args:  "KEY [--force] [--skip-audit] [--audit FILE] [--store URL] [--paths FILE|-]",
		Short: "mark KEY retired: every target stops trusting it",
		Long: `Sets state = "retired" in KEY's block (adding the attribute if needed),
keeping the file's comments and layout. A retired key is trusted by no
target, and nix.conf patches remove it from machines.

Refused while a target lists key.KEY directly in its trust list (remove it
from there first) or a publisher still signs with it. Warns when KEY is the
last active key of its catalog: the catalog's caches would be trusted
nowhere. Retire only after the successor (keyform rotate) is rolled out.

Before retiring, the key's catalog is audited (docs/audit.md): the recorded
audit (audit/CATALOG.json, from keyform audit --record) when it shows the
key active, the summary given with --audit FILE, else a fresh audit of the
catalog's substituters (or --store URL; HTTP caches need --paths FILE).
Refused when paths carry a valid signature by no other active key: they
would become untrusted (resign them with the successor first), and when the
cache cannot be audited. --force retires anyway; --skip-audit does not
audit, for a cache that no longer exists. Clients cache narinfos for up to
30 days (narinfo-cache-positive-ttl), so retire that long after re-signing,
or lower the setting on clients first.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var f retireAuditFlags
			f.register(fs)
			return func(e *cli.Env, args []string) error { return runRetire(e, f, args) }
		},
	}
}

func runRetire(e *cli.Env, f retireAuditFlags, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("retire takes exactly one KEY (a key label)")
	}
	p, err := loadPolicy(e, editOptions)
	if err != nil {
		return err
	}
	k, err := p.FindKey(args[0])
	if err != nil {
		return err
	}
	if k.State == policy.Retired {
		e.Printf("key %s is already retired; nothing to do", k.Label)
		return nil
	}
	if err := p.CheckRetirable(k); err != nil {
		return err
	}
	if p.LastActive(k) {
		e.Warnf("key %s is the last active key of catalog %s: once this is applied, nothing signed for its caches is trusted anywhere", k.Label, k.Catalog)
		e.Hintf("add a successor first (keyform rotate %s) unless the catalog is being shut down", k.Label)
	}
	evidence, err := f.gate(e).BeforeRetire(e, p, k)
	if err != nil {
		return auditUsage(err)
	}
	es, err := newEditSet(e)
	if err != nil {
		return err
	}
	if err := es.WriteKeyState(k, policy.Retired, e.Stderr, e.Colour); err != nil {
		return err
	}
	e.Printf("key %s (%s) retired in %s", k.Label, k.Name, k.Pos.File)
	if w := audit.CacheTTLWarning(evidence, e.Now()); w != "" {
		e.Warnf("%s", w)
	}
	e.Nextf("run \"keyform render\" and review with \"keyform plan\"; once applied, no machine trusts %s", k.Name)
	return nil
}
