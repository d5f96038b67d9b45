package plan

import (
	"errors"
	"fmt"
	"io/fs"
	pathpkg "path"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/internal/safefile"
	"github.com/keyform/keyform/policy"
)

// AuditNotes are the notes "keyform plan" adds for each key retired
// between base and head: the recorded audit of its catalog
// (audit/CATALOG.json in fsys, the head's policy directory, written by
// "keyform audit --record") says how many paths rely on the key alone, so
// the reviewer sees the evidence, or its absence, in the pull request.
// It reads those records, nothing else.
func AuditNotes(fsys fs.FS, base, head *policy.Policy) []Note {
	if base == nil || head == nil {
		return nil
	}
	var notes []Note
	for _, h := range head.Keys {
		b := base.Key(h.Label)
		if b == nil || b.State != policy.Active || h.State != policy.Retired || h.Catalog == "" {
			continue
		}
		notes = append(notes, retireNote(fsys, head, h))
	}
	return notes
}

func retireNote(fsys fs.FS, head *policy.Policy, k *policy.Key) Note {
	n := Note{Level: Warning, Code: "retire_not_audited", Subject: "key." + k.Label}
	file := pathpkg.Join(audit.RecordDir, k.Catalog+".json")
	s, err := readSummary(fsys, file, k.Catalog)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		n.Message = fmt.Sprintf("retiring %s: no audit of catalog %s recorded: run keyform audit %s --record", k.Label, k.Catalog, k.Catalog)
		return n
	case err != nil:
		n.Message = fmt.Sprintf("retiring %s: cannot use %s (%v); record it with keyform audit %s --record", k.Label, file, err, k.Catalog)
		return n
	}
	strands, audited := s.Strands(k.Name)
	stale := s.Stale(audit.KeysOf(head, k.Catalog), k.Name)
	n.Message = s.RetireNote(k.Name)
	switch {
	case !audited:
	case len(stale) > 0:
		n.Message = s.StaleNote(k.Name, stale)
	case strands > 0:
		n.Level, n.Code = Danger, "retire_strands_paths"
		fix := fmt.Sprintf("add a successor first (keyform rotate %s) and sign them with it", k.Label)
		if succ := audit.Successor(head, k); succ != nil {
			fix = fmt.Sprintf("sign them with %s first (keyform resign %s --store %s), then keyform audit %s --record", succ.Label, succ.Label, s.Store, k.Catalog)
		}
		n.Message += fmt.Sprintf(" (%s): once this is applied, clients stop trusting them; %s", s.Store, fix)
	default:
		n.Level, n.Code = Info, "retire_audited"
		n.Message += fmt.Sprintf(" (%s); %s", s.Store, s.CacheNote())
	}
	return n
}

func readSummary(fsys fs.FS, file, catalog string) (*audit.Summary, error) {
	data, err := safefile.ReadFileFS(fsys, file, audit.MaxRecordSize)
	if err != nil {
		return nil, err
	}
	s, err := audit.DecodeSummary(data)
	if err != nil {
		return nil, err
	}
	if s.Catalog != catalog {
		return nil, fmt.Errorf("it holds the audit of catalog %q", s.Catalog)
	}
	return s, nil
}
