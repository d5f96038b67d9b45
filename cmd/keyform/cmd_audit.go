package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
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
	write, ok := map[string]auditWriter{"text": audit.WriteText, "json": audit.WriteJSON}[o.format]
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
	catalogs, err := selectCatalogs(e, p, args, o.cache.store)
	if err != nil {
		return err
	}
	for _, c := range catalogs {
		warnExpired(e, audit.KeysOf(p, c)...)
	}
	jobs, err := auditJobs(p, catalogs, o.cache.store)
	if err != nil {
		return err
	}
	if err := checkRecord(jobs, o.record); err != nil {
		return err
	}
	if err := checkPaths(e, jobs, o.cache.paths); err != nil {
		return err
	}
	examples := o.examples
	if examples == 0 {
		examples = -1 // audit.Options: 0 is the default, negative none
	}
	reports, err := runAudits(e, p, jobs, o.cache, examples, cli.NewProgress(e, o.format == "text"))
	if err != nil {
		return err
	}
	if err := write(e.Stdout, reports); err != nil {
		return err
	}
	if o.record {
		for _, r := range reports {
			if err := audit.WriteRecord(e.Path("."), r.Summary(e.Now())); err != nil {
				return fmt.Errorf("recording the audit of catalog %s: %w", r.Catalog, err)
			}
			e.Printf("recorded %s", audit.RecordFile(r.Catalog))
		}
	}
	return auditExit(reports)
}

type auditWriter func(w io.Writer, reports []*audit.Report) error

// checkRecord refuses --record when a catalog has several stores: a
// record holds one.
func checkRecord(jobs []auditJob, record bool) error {
	seen := map[string]bool{}
	for _, j := range jobs {
		if record && seen[j.catalog] {
			return hint.Wrap(fmt.Errorf("--record keeps one store per catalog, and catalog %s has several substituters", j.catalog), "pass --store URL")
		}
		seen[j.catalog] = true
	}
	return nil
}

// auditExit is audit's exit status (audit.ExitCode): the reports already
// say why.
func auditExit(reports []*audit.Report) error {
	switch audit.ExitCode(reports) {
	case cli.ExitOK:
		return nil
	case cli.ExitDiffers:
		return cli.ErrDiffers
	}
	var n int64
	for _, r := range reports {
		n += r.Malformed
	}
	return fmt.Errorf("%s could not be checked", cli.Plural(int(n), "malformed narinfo", "malformed narinfos"))
}
