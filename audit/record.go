package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/internal/safefile"
	"github.com/keyform/keyform/policy"
)

// KeysOf returns the keys of the catalog labelled catalog, in the
// policy's order: what Options.Keys wants.
func KeysOf(p *policy.Policy, catalog string) []*policy.Key {
	var ks []*policy.Key
	for _, k := range p.Keys {
		if k.Catalog == catalog {
			ks = append(ks, k)
		}
	}
	return ks
}

// RecordDir is where `keyform audit --record` keeps summaries, relative to
// the policy directory.
const RecordDir = "audit"

// RecordFile is the summary file of catalog, relative to the policy
// directory: audit/CATALOG.json.
func RecordFile(catalog string) string {
	return filepath.Join(RecordDir, catalog+".json")
}

// WriteRecord writes s to policyDir/audit/CATALOG.json, atomically and
// durably, mode 0644 (the file is meant to be committed).
func WriteRecord(policyDir string, s *Summary) error {
	data, err := s.Encode()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(policyDir, RecordDir), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(policyDir, RecordFile(s.Catalog)), data, 0o644)
}

// MaxRecordSize is the largest summary file read: records come with pull
// requests, and one is a few hundred bytes per key.
const MaxRecordSize = 1 << 20

// ReadRecord reads the summary of catalog from policyDir, or returns nil
// and no error when none was recorded. A summary for another catalog is
// an error, and so is anything but a regular file of at most
// MaxRecordSize bytes (a named pipe committed in a pull request must not
// hang CI).
func ReadRecord(policyDir, catalog string) (*Summary, error) {
	file := filepath.Join(policyDir, RecordFile(catalog))
	data, err := safefile.ReadFile(file, MaxRecordSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := DecodeSummary(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if s.Catalog != catalog {
		return nil, fmt.Errorf("%s holds the audit of catalog %q, not %q: run keyform audit %s --record", file, s.Catalog, catalog, catalog)
	}
	return s, nil
}
