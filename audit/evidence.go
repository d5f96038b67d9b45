package audit

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/internal/safefile"
	"github.com/keyform/keyform/policy"
)

// This file is what retire knows about a key's caches before retiring
// it: the audit evidence (a recorded audit, an audit file, or a fresh
// audit) and the refusal when paths would be stranded or the caches
// cannot be audited. docs/audit.md ("keyform retire with an audit") is
// the contract.

// RetireGate says how retire finds the evidence for retiring a key.
type RetireGate struct {
	// Force retires even when paths would be stranded or the caches
	// cannot be audited; Skip does not audit at all.
	Force, Skip bool
	// File is the audit summary to use (retire --audit FILE, as given),
	// read at FilePath.
	File, FilePath string
	// Store is the store to audit instead of the catalog's substituters.
	Store  string
	Access Access
	// PolicyDir holds the recorded audits (audit/CATALOG.json).
	PolicyDir string
	Now       time.Time
	Progress  Progress
}

// BeforeRetire finds the evidence for retiring k and refuses when it
// shows paths that only k signs (a *StrandError), or when there is none to
// be had, unless Force. It returns the summaries the retire relies on
// (none when the audit was skipped or forced past).
func (g RetireGate) BeforeRetire(rep report.Reporter, p *policy.Policy, k *policy.Key) ([]*Summary, error) {
	switch {
	case g.Skip:
		rep.Notef("not auditing the caches of catalog %s (--skip-audit): nothing checks that paths signed only by %s stay trusted", k.Catalog, k.Label)
		return nil, nil
	case k.Catalog == "":
		rep.Notef("key %s belongs to no catalog, so there is no cache to audit", k.Label)
		return nil, nil
	}
	sums, recorded, err := g.evidence(rep, p, k)
	if err == nil {
		err = CheckRetire(sums, k, KeysOf(p, k.Catalog), Successor(p, k), recorded)
	}
	var strand *StrandError
	switch {
	case err == nil:
		rep.Printf("%s", sumsNote(sums, k))
		return sums, nil
	case g.Force:
		rep.Warnf("%v; retiring anyway (--force)", err)
		return nil, nil
	case errors.As(err, &strand), errors.Is(err, ErrPathsStdin):
		return nil, err
	case errors.Is(err, ErrNotListed):
		return nil, hint.Wrap(err, "pass --paths FILE to audit it, --force to retire without an audit, or --skip-audit if the cache no longer exists")
	}
	return nil, hint.Wrap(err, "pass --force to retire without an audit, or --skip-audit if the cache no longer exists")
}

// sumsNote is the retire note of each store, joined.
func sumsNote(sums []*Summary, k *policy.Key) string {
	note := ""
	for i, s := range sums {
		if i > 0 {
			note += "; "
		}
		note += s.RetireNote(k.Name) + " (" + s.Store + ")"
	}
	return note
}

// evidence is the audit of k's catalog: the File, else the recorded
// audit when it lists k as active, else a fresh audit of the catalog's
// stores. recorded says the evidence is a file.
func (g RetireGate) evidence(rep report.Reporter, p *policy.Policy, k *policy.Key) (sums []*Summary, recorded bool, err error) {
	if g.File != "" {
		s, err := g.readFile(k.Catalog)
		if err != nil {
			return nil, false, err
		}
		rep.Printf("using the audit of %s (%s)", s.Date, g.File)
		return []*Summary{s}, true, nil
	}
	if rec, err := g.usableRecord(rep, p, k); rec != nil || err != nil {
		return []*Summary{rec}, true, err
	}
	jobs, err := Jobs(p, []string{k.Catalog}, g.Store)
	if err == nil {
		err = CheckPaths(rep, jobs, g.Access.Paths)
	}
	if err != nil {
		return nil, false, err
	}
	reports, err := RunJobs(p, jobs, g.Access, -1, g.Progress)
	if err != nil {
		return nil, false, fmt.Errorf("cannot audit %w", err)
	}
	for _, r := range reports {
		sums = append(sums, r.Summary(g.Now))
	}
	return sums, false, nil
}

// usableRecord is the recorded audit of k's catalog when it can tell what
// retiring k strands, and no store was named (a store or a paths list ask
// for a fresh audit); nil otherwise, saying why a recorded one is not
// used.
func (g RetireGate) usableRecord(rep report.Reporter, p *policy.Policy, k *policy.Key) (*Summary, error) {
	if g.Store != "" || g.Access.Paths != "" {
		return nil, nil
	}
	rec, err := ReadRecord(g.PolicyDir, k.Catalog)
	if rec == nil || err != nil {
		return nil, err
	}
	file := RecordFile(k.Catalog)
	_, listed := rec.Strands(k.Name)
	stale := rec.Stale(KeysOf(p, k.Catalog), k.Name)
	switch {
	case !listed:
		rep.Printf("%s does not show %s active; auditing the cache again", file, k.Label)
	case len(stale) > 0:
		rep.Printf("%s counted %s as active, which the policy no longer does; auditing the cache again", file, strings.Join(stale, ", "))
	default:
		rep.Printf("using the audit of %s (%s)", rec.Date, file)
		return rec, nil
	}
	return nil, nil
}

// readFile reads the audit summary File, which must be of catalog.
func (g RetireGate) readFile(catalog string) (*Summary, error) {
	data, err := safefile.ReadFile(g.FilePath, MaxRecordSize)
	if err != nil {
		return nil, fmt.Errorf("--audit: %w", err)
	}
	s, err := DecodeSummary(data)
	if err != nil {
		return nil, fmt.Errorf("--audit %s: %w", g.File, err)
	}
	if s.Catalog != catalog {
		return nil, fmt.Errorf("--audit %s holds the audit of catalog %s, not %s", g.File, s.Catalog, catalog)
	}
	return s, nil
}
