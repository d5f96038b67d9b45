package main

import (
	"errors"
	"flag"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/internal/cli"
)

// This file is the flags of the commands that read binary caches (audit,
// resign, and retire's audit) and what they make of them. How the caches
// are reached and audited is the audit package's (docs/audit.md).

// cacheFlags are the flags of every command that audits caches.
type cacheFlags struct {
	store, paths, netrc string
	jobs                int
}

func (c *cacheFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", "", "binary cache `URL` to read instead of the catalog's substituters (file:///dir, https://...)")
	fs.StringVar(&c.paths, "paths", "", "`file` listing the store paths to look up in an HTTP cache (- for standard input)")
	cli.JobsFlag(fs, &c.jobs, "read and check `N` narinfos at once (default: one per core for file://, 25 for HTTP)")
	fs.StringVar(&c.netrc, "netrc-file", "", "netrc `file` with HTTP credentials (default: Nix's netrc-file)")
}

// access is how the audits reach the caches, with the files resolved in
// the policy directory.
func (c *cacheFlags) access(e *cli.Env) audit.Access {
	a := audit.Access{Paths: c.paths, Stdin: e.Stdin, Jobs: c.jobs}
	if c.paths != "" && c.paths != "-" {
		a.Paths = e.Path(c.paths)
	}
	if c.netrc != "" {
		a.Netrc = e.Path(c.netrc)
	}
	return a
}

// retireAuditFlags decide how retire audits.
type retireAuditFlags struct {
	force, skip bool
	file        string // --audit FILE: a summary written by audit --record
	cache       cacheFlags
}

func (f *retireAuditFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.force, "force", false, "retire even when paths would be stranded or the cache cannot be audited")
	fs.BoolVar(&f.skip, "skip-audit", false, "do not audit the key's caches (for a cache that no longer exists)")
	fs.StringVar(&f.file, "audit", "", "use the audit summary in `FILE` (written by keyform audit --record) as the evidence")
	f.cache.register(fs)
}

// gate is how retire decides from the key's caches (audit.RetireGate).
func (f *retireAuditFlags) gate(e *cli.Env) audit.RetireGate {
	return audit.RetireGate{
		Force: f.force, Skip: f.skip, File: f.file, FilePath: e.Path(f.file),
		Store: f.cache.store, Access: f.cache.access(e),
		PolicyDir: e.Path("."), Now: e.Now(), Progress: progress(e, true),
	}
}

// progress is the audits' progress line when a person watches it, else
// nil.
func progress(e *cli.Env, forPeople bool) audit.Progress {
	if p := cli.NewProgress(e, forPeople); p != nil {
		return p
	}
	return nil
}

// auditUsage makes a paths list on standard input for several stores the
// command-line mistake it is.
func auditUsage(err error) error {
	for _, usage := range []error{audit.ErrPathsStdin, audit.ErrStoreOneCatalog} {
		if errors.Is(err, usage) {
			return cli.Usagef("%s", usage)
		}
	}
	return err
}
