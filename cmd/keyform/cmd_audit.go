package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/keyform/keyform/audit"
)

func auditCommand() *command {
	return &command{
		name:  "audit",
		args:  "[CATALOG...] [--store URL] [--paths FILE|-] [--format text|json] [--jobs N] [--record]",
		short: "find out what each cache's paths are signed with, and what retiring a key would strand",
		long: `Reads every narinfo of each catalog's binary cache (its substituters, or
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
		setup: func(fs *flag.FlagSet) runFunc {
			var o auditOpts
			o.cache.register(fs)
			fs.StringVar(&o.format, "format", "text", "output `format`: text or json")
			fs.IntVar(&o.examples, "examples", audit.DefaultExamples, "list `N` paths per problem")
			fs.BoolVar(&o.record, "record", false, "write the counts to audit/CATALOG.json in the policy directory")
			return func(e *env, args []string) error { return runAudit(e, o, args) }
		},
	}
}

type auditOpts struct {
	cache    cacheFlags
	format   string
	examples int
	record   bool
}

func runAudit(e *env, o auditOpts, args []string) error {
	write, ok := map[string]auditWriter{"text": audit.WriteText, "json": audit.WriteJSON}[o.format]
	if !ok {
		return usagef("audit: unknown --format %q; use text or json", o.format)
	}
	if o.examples < 0 {
		return usagef("audit: --examples must not be negative")
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
	reports, err := runAudits(e, p, jobs, o.cache, examples, newProgress(e, o.format == "text"))
	if err != nil {
		return err
	}
	if err := write(e.stdout, reports); err != nil {
		return err
	}
	if o.record {
		for _, r := range reports {
			if err := audit.WriteRecord(e.path("."), r.Summary(e.now())); err != nil {
				return fmt.Errorf("recording the audit of catalog %s: %w", r.Catalog, err)
			}
			e.printf("recorded %s", audit.RecordFile(r.Catalog))
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
			return withHint(fmt.Errorf("--record keeps one store per catalog, and catalog %s has several substituters", j.catalog), "pass --store URL")
		}
		seen[j.catalog] = true
	}
	return nil
}

// auditExit is audit's exit status (audit.ExitCode): the reports already
// say why.
func auditExit(reports []*audit.Report) error {
	switch audit.ExitCode(reports) {
	case exitOK:
		return nil
	case exitDiffers:
		return errDiffers
	}
	var n int64
	for _, r := range reports {
		n += r.Malformed
	}
	return exitError{exitInvalid, fmt.Errorf("%s could not be checked", plural(int(n), "malformed narinfo", "malformed narinfos"))}
}
