package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/policy"
)

// This file is how audits (keyform audit, and retire's) reach binary
// caches: which stores a catalog's audit reads, the paths list HTTP caches
// need, credentials (from the netrc file, never printed: store URLs are
// shown through binarycache.Redact), and running the audits with a
// progress line. docs/audit.md is the contract.

// Progress is a status line that audits update as they go and clear
// after each store (the keyform command's progress line implements it).
type Progress interface {
	Update(format string, args ...any)
	Done()
}

// Job is one audit: a catalog's cache at one store URL.
type Job struct {
	Catalog string
	Store   string // as given: may hold credentials, so print only Redact(Store)
}

// Access is how audits reach the caches.
type Access struct {
	// Paths is the file listing the store paths to look up in HTTP caches,
	// "-" for Stdin, "" for none.
	Paths string
	Stdin io.Reader
	// Netrc is the netrc file with HTTP credentials; "" for Nix's.
	Netrc string
	// Jobs is how many narinfos are read and checked at once (Options).
	Jobs int
}

var (
	// ErrNotListed is wrapped when an HTTP cache is audited without a
	// paths list.
	ErrNotListed = errors.New("cannot be listed")
	// ErrPathsStdin is standard input given as the paths list of several
	// stores: it can be read once.
	ErrPathsStdin = errors.New("--paths - can be read for one store only")
)

// SelectCatalogs returns the catalogs named, or when none is, every
// catalog (when store names the cache to read) or every catalog that has
// a substituter, noting the others: they name no cache to audit.
func SelectCatalogs(rep report.Reporter, p *policy.Policy, names []string, store string) ([]string, error) {
	var all, withCache []string
	for _, c := range p.Catalogs {
		all = append(all, c.Label)
		if len(c.Substituters) > 0 {
			withCache = append(withCache, c.Label)
		} else if len(names) == 0 && store == "" {
			rep.Notef("catalog %s has no substituter; not audited", c.Label)
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

// Jobs lists the audits of catalogs: the store given (for the one
// catalog; the caller makes sure there is one), else each of a
// catalog's substituters.
func Jobs(p *policy.Policy, catalogs []string, store string) ([]Job, error) {
	if store != "" {
		return []Job{{catalogs[0], store}}, nil
	}
	var jobs []Job
	for _, label := range catalogs {
		c := p.Catalog(label)
		if len(c.Substituters) == 0 {
			return nil, hint.Wrap(fmt.Errorf("catalog %s has no substituter to audit", label), "pass --store URL")
		}
		for _, s := range c.Substituters {
			jobs = append(jobs, Job{label, s})
		}
	}
	return jobs, nil
}

// CheckRecordable refuses to record audits when a catalog has several
// stores: a record holds one.
func CheckRecordable(jobs []Job) error {
	seen := map[string]bool{}
	for _, j := range jobs {
		if seen[j.Catalog] {
			return hint.Wrap(fmt.Errorf("--record keeps one store per catalog, and catalog %s has several substituters", j.Catalog), "pass --store URL")
		}
		seen[j.Catalog] = true
	}
	return nil
}

// CheckPaths refuses what cannot work before anything is read: an HTTP
// cache without a paths list (ErrNotListed), and standard input for
// several of them (ErrPathsStdin). It warns that file:// caches ignore the
// list.
func CheckPaths(rep report.Reporter, jobs []Job, paths string) error {
	listed := 0
	for _, j := range jobs {
		switch {
		case binarycache.IsFileURL(j.Store) && paths != "":
			rep.Warnf("--paths is ignored for %s: file:// caches are listed", binarycache.Redact(j.Store))
		case !binarycache.IsHTTPURL(j.Store):
		case paths == "":
			return hint.Wrap(fmt.Errorf("%s %w: pass --paths FILE with the store paths to look up", binarycache.Redact(j.Store), ErrNotListed),
				"nix path-info -r /run/current-system > paths.txt")
		default:
			listed++
		}
	}
	if paths == "-" && listed > 1 {
		return ErrPathsStdin
	}
	return nil
}

// RunJobs runs the audits in turn, updating prog (when not nil). The
// first error stops them: "catalog acme: store ... is not reachable: ...".
// examples is Options.Examples.
func RunJobs(p *policy.Policy, jobs []Job, a Access, examples int, prog Progress) ([]*Report, error) {
	ctx := context.Background()
	var reports []*Report
	for _, j := range jobs {
		r, err := runJob(ctx, p, j, a, examples, prog)
		if prog != nil {
			prog.Done()
		}
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", j.Catalog, err)
		}
		reports = append(reports, r)
	}
	return reports, nil
}

func runJob(ctx context.Context, p *policy.Policy, j Job, a Access, examples int, prog Progress) (*Report, error) {
	paths, closePaths, err := a.openPaths(j.Store)
	if err != nil {
		return nil, err
	}
	defer closePaths()
	s, err := binarycache.OpenWithNetrc(ctx, j.Store, a.Netrc, a.Jobs)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	o := Options{Catalog: j.Catalog, Keys: KeysOf(p, j.Catalog), Jobs: a.Jobs, Paths: paths, Examples: examples}
	if prog != nil {
		o.Progress = func(n int64) { prog.Update("audit %s: %d narinfos checked", j.Catalog, n) }
	}
	r, err := Run(ctx, s, o)
	if err != nil && errors.Is(err, binarycache.ErrNotListable) {
		return nil, hint.Wrap(err, "pass --paths FILE")
	}
	return r, err
}

// openPaths opens the paths list for a store that needs one; the
// returned function closes it.
func (a Access) openPaths(store string) (io.Reader, func(), error) {
	switch {
	case !binarycache.IsHTTPURL(store) || a.Paths == "":
		return nil, func() {}, nil
	case a.Paths == "-":
		return a.Stdin, func() {}, nil
	}
	f, err := os.Open(a.Paths)
	if err != nil {
		return nil, nil, fmt.Errorf("--paths: %w", err)
	}
	return f, func() { f.Close() }, nil
}
