package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/safefile"
	"github.com/keyform/keyform/policy"
)

// This file is what retire knows about a key's caches before retiring
// it: the audit evidence (a recorded audit, an audit file, or a fresh
// audit) and the refusal when paths would be stranded or the caches
// cannot be audited. docs/audit.md ("keyform retire with an audit") is
// the contract.

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

// auditBeforeRetire finds the evidence for retiring k and refuses when it
// shows paths that only k signs, or when there is none to be had, unless
// --force. It returns the summaries the retire relies on (none when the
// audit was skipped or forced past).
func auditBeforeRetire(e *cli.Env, p *policy.Policy, k *policy.Key, f retireAuditFlags) ([]*audit.Summary, error) {
	switch {
	case f.skip:
		e.Notef("not auditing the caches of catalog %s (--skip-audit): nothing checks that paths signed only by %s stay trusted", k.Catalog, k.Label)
		return nil, nil
	case k.Catalog == "":
		e.Notef("key %s belongs to no catalog, so there is no cache to audit", k.Label)
		return nil, nil
	}
	sums, recorded, err := retireEvidence(e, p, k, f)
	if err == nil {
		err = audit.CheckRetire(sums, k, audit.KeysOf(p, k.Catalog), audit.Successor(p, k), recorded)
	}
	var strand *audit.StrandError
	switch {
	case err == nil:
		e.Printf("%s", sumsNote(sums, k))
		return sums, nil
	case f.force:
		e.Warnf("%v; retiring anyway (--force)", err)
		return nil, nil
	case errors.As(err, &strand):
		return nil, err
	case errors.Is(err, errNotListed):
		return nil, hint.Wrap(err, "pass --paths FILE to audit it, --force to retire without an audit, or --skip-audit if the cache no longer exists")
	}
	return nil, hint.Wrap(err, "pass --force to retire without an audit, or --skip-audit if the cache no longer exists")
}

// sumsNote is the retire note of each store, joined.
func sumsNote(sums []*audit.Summary, k *policy.Key) string {
	note := ""
	for i, s := range sums {
		if i > 0 {
			note += "; "
		}
		note += s.RetireNote(k.Name) + " (" + s.Store + ")"
	}
	return note
}

// retireEvidence is the audit of k's catalog: --audit FILE, else the
// recorded audit when it lists k as active, else a fresh audit of the
// catalog's stores. recorded says the evidence is a file.
func retireEvidence(e *cli.Env, p *policy.Policy, k *policy.Key, f retireAuditFlags) (sums []*audit.Summary, recorded bool, err error) {
	if f.file != "" {
		s, err := readSummaryFile(e, f.file, k.Catalog)
		if err != nil {
			return nil, false, err
		}
		e.Printf("using the audit of %s (%s)", s.Date, f.file)
		return []*audit.Summary{s}, true, nil
	}
	if rec, err := usableRecord(e, p, k, f); rec != nil || err != nil {
		return []*audit.Summary{rec}, true, err
	}
	jobs, err := auditJobs(p, []string{k.Catalog}, f.cache.store)
	if err == nil {
		err = checkPaths(e, jobs, f.cache.paths)
	}
	if err != nil {
		return nil, false, err
	}
	reports, err := runAudits(e, p, jobs, f.cache, -1, cli.NewProgress(e, true))
	if err != nil {
		return nil, false, fmt.Errorf("cannot audit %w", err)
	}
	for _, r := range reports {
		sums = append(sums, r.Summary(e.Now()))
	}
	return sums, false, nil
}

// usableRecord is the recorded audit of k's catalog when it can tell what
// retiring k strands, and no store was named (--store and --paths ask for
// a fresh audit); nil otherwise, saying why a recorded one is not used.
func usableRecord(e *cli.Env, p *policy.Policy, k *policy.Key, f retireAuditFlags) (*audit.Summary, error) {
	if f.cache.store != "" || f.cache.paths != "" {
		return nil, nil
	}
	rec, err := audit.ReadRecord(e.Path("."), k.Catalog)
	if rec == nil || err != nil {
		return nil, err
	}
	file := audit.RecordFile(k.Catalog)
	_, listed := rec.Strands(k.Name)
	stale := rec.Stale(audit.KeysOf(p, k.Catalog), k.Name)
	switch {
	case !listed:
		e.Printf("%s does not show %s active; auditing the cache again", file, k.Label)
	case len(stale) > 0:
		e.Printf("%s counted %s as active, which the policy no longer does; auditing the cache again", file, strings.Join(stale, ", "))
	default:
		e.Printf("using the audit of %s (%s)", rec.Date, file)
		return rec, nil
	}
	return nil, nil
}

func readSummaryFile(e *cli.Env, file, catalog string) (*audit.Summary, error) {
	data, err := safefile.ReadFile(e.Path(file), audit.MaxRecordSize)
	if err != nil {
		return nil, fmt.Errorf("--audit: %w", err)
	}
	s, err := audit.DecodeSummary(data)
	if err != nil {
		return nil, fmt.Errorf("--audit %s: %w", file, err)
	}
	if s.Catalog != catalog {
		return nil, fmt.Errorf("--audit %s holds the audit of catalog %s, not %s", file, s.Catalog, catalog)
	}
	return s, nil
}

// warnCacheTTL says, after a retire, until when clients may still use
// narinfos cached before the caches were re-signed.
func warnCacheTTL(e *cli.Env, sums []*audit.Summary) {
	if w := audit.CacheTTLWarning(sums, e.Now()); w != "" {
		e.Warnf("%s", w)
	}
}
