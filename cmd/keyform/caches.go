package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
)

// This file is how the commands that read binary caches (audit, resign,
// and retire's audit) reach them: which stores a catalog's audit reads,
// the paths list HTTP caches need, credentials (from the netrc file, never
// printed: store URLs are shown through binarycache.Redact), and running
// audits with a progress line. docs/audit.md is the contract.

// cacheFlags are the flags of every command that audits caches.
type cacheFlags struct {
	store, paths, netrc string
	jobs                int
}

func (c *cacheFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", "", "binary cache `URL` to read instead of the catalog's substituters (file:///dir, https://...)")
	fs.StringVar(&c.paths, "paths", "", "`file` listing the store paths to look up in an HTTP cache (- for standard input)")
	jobsFlag(fs, &c.jobs, "read and check `N` narinfos at once (default: one per core for file://, 25 for HTTP)")
	fs.StringVar(&c.netrc, "netrc-file", "", "netrc `file` with HTTP credentials (default: Nix's netrc-file)")
}

// jobsFlag declares --jobs N, which must be at least 1; unset leaves *n
// 0, the default.
func jobsFlag(fs *flag.FlagSet, n *int, usage string) {
	fs.Func("jobs", usage, func(v string) error {
		j, err := strconv.Atoi(v)
		if err != nil || j < 1 {
			return fmt.Errorf("%q is not a number of at least 1", v)
		}
		*n = j
		return nil
	})
}

// auditJob is one audit: a catalog's cache at one store URL.
type auditJob struct {
	catalog string
	store   string // as given: may hold credentials, so print only Redact(store)
}

// selectCatalogs returns the catalogs named, or when none is, every
// catalog (with --store) or every catalog that has a substituter, noting
// the others: they name no cache to audit.
func selectCatalogs(e *cli.Env, p *policy.Policy, names []string, store string) ([]string, error) {
	var all, withCache []string
	for _, c := range p.Catalogs {
		all = append(all, c.Label)
		if len(c.Substituters) > 0 {
			withCache = append(withCache, c.Label)
		} else if len(names) == 0 && store == "" {
			e.Notef("catalog %s has no substituter; not audited", c.Label)
		}
	}
	switch {
	case len(names) == 0 && store != "":
		return all, nil
	case len(names) == 0:
		return withCache, nil
	}
	var selected []string
	for _, n := range names {
		if p.Catalog(n) == nil {
			return nil, hint.Wrap(fmt.Errorf("no catalog named %q", n), "catalogs: %s", orNone(all))
		}
		if !slices.Contains(selected, n) {
			selected = append(selected, n)
		}
	}
	return selected, nil
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// auditJobs lists the audits of catalogs: the store given with --store
// (for exactly one catalog), else each of a catalog's substituters.
func auditJobs(p *policy.Policy, catalogs []string, store string) ([]auditJob, error) {
	if store != "" {
		if len(catalogs) != 1 {
			return nil, cli.Usagef("--store needs exactly one CATALOG")
		}
		return []auditJob{{catalogs[0], store}}, nil
	}
	var jobs []auditJob
	for _, label := range catalogs {
		c := p.Catalog(label)
		if len(c.Substituters) == 0 {
			return nil, hint.Wrap(fmt.Errorf("catalog %s has no substituter to audit", label), "pass --store URL")
		}
		for _, s := range c.Substituters {
			jobs = append(jobs, auditJob{label, s})
		}
	}
	return jobs, nil
}

// isFileStore reports whether a store URL names a local directory, which
// keyform lists (and resign writes).
func isFileStore(store string) bool {
	if strings.HasPrefix(store, "/") {
		return true
	}
	u, err := url.Parse(store)
	return err == nil && u.Scheme == "file"
}

// errNotListed is an HTTP cache audited without a paths list.
var errNotListed = errors.New("cannot be listed")

// isHTTPStore reports whether a store URL names an HTTP(S) cache, which
// cannot be listed.
func isHTTPStore(store string) bool {
	u, err := url.Parse(store)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https")
}

// checkPaths refuses what cannot work before anything is read: an HTTP
// cache without a paths list, and standard input for several of them.
func checkPaths(e *cli.Env, jobs []auditJob, paths string) error {
	listed := 0
	for _, j := range jobs {
		switch {
		case isFileStore(j.store) && paths != "":
			e.Warnf("--paths is ignored for %s: file:// caches are listed", binarycache.Redact(j.store))
		case !isHTTPStore(j.store):
		case paths == "":
			return hint.Wrap(fmt.Errorf("%s %w: pass --paths FILE with the store paths to look up", binarycache.Redact(j.store), errNotListed),
				"nix path-info -r /run/current-system > paths.txt")
		default:
			listed++
		}
	}
	if paths == "-" && listed > 1 {
		return cli.Usagef("--paths - can be read for one store only")
	}
	return nil
}

// openPaths opens the paths list for a store that needs one; the
// returned function closes it.
func openPaths(e *cli.Env, store, paths string) (io.Reader, func(), error) {
	switch {
	case !isHTTPStore(store) || paths == "":
		return nil, func() {}, nil
	case paths == "-":
		return e.Stdin, func() {}, nil
	}
	f, err := os.Open(e.Path(paths))
	if err != nil {
		return nil, nil, fmt.Errorf("--paths: %w", err)
	}
	return f, func() { f.Close() }, nil
}

// openStore opens a store with credentials from the netrc file (loaded
// only for HTTP stores) and a connection per job.
func openStore(ctx context.Context, e *cli.Env, store string, f cacheFlags) (binarycache.Store, error) {
	o := binarycache.Options{}
	if !isFileStore(store) {
		file := f.netrc
		if file == "" {
			file = binarycache.DefaultNetrcFile()
		} else {
			file = e.Path(file)
		}
		n, err := binarycache.LoadNetrc(file)
		if err != nil {
			return nil, err
		}
		o.HTTP = binarycache.HTTPOptions{Netrc: n, Conns: max(f.jobs, 25)}
	}
	return binarycache.Open(ctx, store, o)
}

// runAudits runs the audits in turn, with a progress line when prog is
// set. The first error stops them: "catalog acme: store ... is not
// reachable: ...".
func runAudits(e *cli.Env, p *policy.Policy, jobs []auditJob, f cacheFlags, examples int, prog *cli.Progress) ([]*audit.Report, error) {
	ctx := context.Background()
	var reports []*audit.Report
	for _, j := range jobs {
		r, err := auditOne(ctx, e, p, j, f, examples, prog)
		prog.Done()
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", j.catalog, err)
		}
		reports = append(reports, r)
	}
	return reports, nil
}

func auditOne(ctx context.Context, e *cli.Env, p *policy.Policy, j auditJob, f cacheFlags, examples int, prog *cli.Progress) (*audit.Report, error) {
	paths, closePaths, err := openPaths(e, j.store, f.paths)
	if err != nil {
		return nil, err
	}
	defer closePaths()
	s, err := openStore(ctx, e, j.store, f)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	o := audit.Options{Catalog: j.catalog, Keys: audit.KeysOf(p, j.catalog), Jobs: f.jobs, Paths: paths, Examples: examples}
	if prog != nil {
		o.Progress = func(n int64) { prog.Update("audit %s: %d narinfos checked", j.catalog, n) }
	}
	r, err := audit.Run(ctx, s, o)
	if err != nil && errors.Is(err, binarycache.ErrNotListable) {
		return nil, hint.Wrap(err, "pass --paths FILE")
	}
	return r, err
}
