package audit

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/policy"
)

// Request is what `keyform audit` is asked: the catalogs named (none:
// every catalog with a cache), the store to read instead of their
// substituters, the paths list for HTTP caches, and whether to record the
// counts.
type Request struct {
	Catalogs []string
	Store    string
	// Paths is the paths list as given ("-": standard input, "": none).
	Paths  string
	Record bool
	// Examples is how many paths to list per problem, as --examples says
	// it: 0 lists none.
	Examples int
}

// Run runs the audits jobs (RunJobs) with r's examples.
func (r Request) Run(p *policy.Policy, jobs []Job, a Access, prog Progress) ([]*Report, error) {
	examples := r.Examples
	if examples == 0 {
		examples = -1 // Options: 0 is the default, negative none
	}
	return RunJobs(p, jobs, a, examples, prog)
}

// Format returns how reports are written in the named format, text or
// json; false for another name.
func Format(name string) (func(io.Writer, []*Report) error, bool) {
	f, ok := map[string]func(io.Writer, []*Report) error{"text": WriteText, "json": WriteJSON}[name]
	return f, ok
}

// ErrStoreOneCatalog is --store with more or fewer catalogs than one: a
// store is one catalog's cache.
var ErrStoreOneCatalog = errors.New("--store needs exactly one CATALOG")

// Jobs lists the audits of r and refuses what cannot work before anything
// is read (SelectCatalogs, Jobs, CheckRecordable, CheckPaths). involve is
// given each selected catalog's keys first, so that the command can warn
// about the expired ones even when the request is then refused.
func (r Request) Jobs(rep report.Reporter, p *policy.Policy, involve func(ks ...*policy.Key)) ([]Job, error) {
	catalogs, err := SelectCatalogs(rep, p, r.Catalogs, r.Store)
	if err != nil {
		return nil, err
	}
	for _, c := range catalogs {
		involve(KeysOf(p, c)...)
	}
	if r.Store != "" && len(catalogs) != 1 {
		return nil, ErrStoreOneCatalog
	}
	jobs, err := Jobs(p, catalogs, r.Store)
	if err == nil && r.Record {
		err = CheckRecordable(jobs)
	}
	if err == nil {
		err = CheckPaths(rep, jobs, r.Paths)
	}
	return jobs, err
}

// RecordAll writes the summary of each report, made at, to policyDir
// (WriteRecord), saying which file it wrote.
func RecordAll(rep report.Reporter, policyDir string, reports []*Report, at time.Time) error {
	for _, r := range reports {
		if err := WriteRecord(policyDir, r.Summary(at)); err != nil {
			return fmt.Errorf("recording the audit of catalog %s: %w", r.Catalog, err)
		}
		rep.Printf("recorded %s", RecordFile(r.Catalog))
	}
	return nil
}

// Verdict is what the reports mean for the command's exit (ExitCode): an
// error when narinfos could not be checked, else whether a path is not
// covered or a signature is invalid.
func Verdict(reports []*Report) (problems bool, err error) {
	switch ExitCode(reports) {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	var n int64
	for _, r := range reports {
		n += r.Malformed
	}
	if n == 1 {
		return true, errors.New("1 malformed narinfo could not be checked")
	}
	return true, fmt.Errorf("%d malformed narinfos could not be checked", n)
}
