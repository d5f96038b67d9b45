package main

import (
	"flag"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/policy"
)

func auditCommand() *cli.Command {
	return &cli.Command{
		Name:  "audit",
		Args:  "[CATALOG...] [--store URL] [--paths FILE|-] [--format text|json] [--jobs N] [--record]",
		Short: "find out what each cache's paths are signed with, and what retiring a key would strand",
		Long: `Reads every narinfo of each catalog's binary cache (its substituters, or
--store URL for one CATALOG) and checks every signature against the
catalog's keys in the policy. Each path is covered by an active key,
signed only by retired keys, unsigned (or signed only by keys the policy
does not know), content-addressed, or malformed; signatures that do not
verify are reported as INVALID. Per key, "would be stranded" counts the
paths whose only valid active-key signature is that key's: retiring it
makes them untrusted.

file:///dir caches are listed. HTTP caches cannot be: --paths FILE names
the store paths to look up, one per line ("nix path-info -r
/run/current-system"), - for standard input. Credentials come from the URL
or the netrc file and are never printed.

--record writes the counts (no paths, no secrets) to audit/CATALOG.json in
the policy directory: commit it with the pull request that retires a key,
and plan shows it as evidence. --format json is a stable schema
(docs/audit.md).

Exit status: 0 every path covered and no signature invalid; 1 a path is
not covered or a signature is invalid; 2 an error or a malformed narinfo.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o auditOpts
			o.cache.register(fs)
			fs.StringVar(&o.format, "format", "text", "output `format`: text or json")
			fs.IntVar(&o.examples, "examples", audit.DefaultExamples, "list `N` paths per problem")
			fs.BoolVar(&o.record, "record", false, "write the counts to audit/CATALOG.json in the policy directory")
			return func(e *cli.Env, args []string) error { return runAudit(e, o, args) }
		},
	}
}

type auditOpts struct {
	cache    cacheFlags
	format   string
	examples int
	record   bool
}

func runAudit(e *cli.Env, o auditOpts, args []string) error {
	write, ok := audit.Format(o.format)
	if !ok {
		return cli.Usagef("audit: unknown --format %q; use text or json", o.format)
	}
	if o.examples < 0 {
		return cli.Usagef("audit: --examples must not be negative")
	}
	p, err := loadPolicy(e, involvedOptions)
	if err != nil {
		return err
	}
	req := audit.Request{Catalogs: args, Store: o.cache.store, Paths: o.cache.paths, Record: o.record, Examples: o.examples}
	jobs, err := req.Jobs(e, p, func(ks ...*policy.Key) { warnExpired(e, ks...) })
	if err != nil {
		return auditUsage(err)
	}
	reports, err := req.Run(p, jobs, o.cache.access(e), progress(e, o.format == "text"))
	if err != nil {
		return err
	}
	if err := write(e.Stdout, reports); err != nil {
		return err
	}
	if o.record {
		if err := audit.RecordAll(e, e.Path("."), reports, e.Now()); err != nil {
			return err
		}
	}
	problems, err := audit.Verdict(reports)
	if err == nil && problems {
		err = cli.ErrDiffers
	}
	return err
}
