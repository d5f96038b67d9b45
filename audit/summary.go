package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/keyform/keyform/policy"
)

// Summary is what `keyform audit --record` keeps in the policy
// directory (audit/CATALOG.json) as evidence for a pull request that
// retires a key: counts only, no paths, no secrets, and the date of the
// audit. Its JSON form is documented in docs/audit.md.
type Summary struct {
	Version int    `json:"version"`
	Catalog string `json:"catalog"`
	// Store is the URL audited, without credentials or query.
	Store string `json:"store"`
	// Date is the day of the audit, YYYY-MM-DD in UTC.
	Date             string                 `json:"date"`
	Paths            int64                  `json:"paths"`
	NotFound         int64                  `json:"not_found"`
	Covered          int64                  `json:"covered"`
	RetiredOnly      int64                  `json:"retired_only"`
	ContentAddressed int64                  `json:"content_addressed"`
	Unsigned         int64                  `json:"unsigned"`
	Invalid          int64                  `json:"invalid"`
	Malformed        int64                  `json:"malformed"`
	Keys             map[string]*KeySummary `json:"keys"`
}

// KeySummary is one key's counts in a Summary.
type KeySummary struct {
	Label       string `json:"label"`
	State       string `json:"state"`
	Valid       int64  `json:"valid"`
	Invalid     int64  `json:"invalid"`
	WouldStrand int64  `json:"would_strand"`
}

// DateLayout is the layout of Summary.Date.
const DateLayout = "2006-01-02"

// Summary returns the counts of r, dated at (in UTC).
func (r *Report) Summary(at time.Time) *Summary {
	s := &Summary{
		Version: SchemaVersion, Catalog: r.Catalog, Store: r.Store,
		Date:  at.UTC().Format(DateLayout),
		Paths: r.Paths, NotFound: r.NotFound, Covered: r.Covered, RetiredOnly: r.RetiredOnly,
		ContentAddressed: r.ContentAddressed, Unsigned: r.Unsigned, Invalid: r.Invalid, Malformed: r.Malformed,
		Keys: map[string]*KeySummary{},
	}
	for name, k := range r.Keys {
		s.Keys[name] = &KeySummary{Label: k.Label, State: k.State, Valid: k.Valid, Invalid: k.Invalid, WouldStrand: k.WouldStrand}
	}
	return s
}

// Encode returns the summary as indented JSON with a final newline; the
// same summary always gives the same bytes.
func (s *Summary) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeSummary reads a summary written by Encode. Unknown fields, a
// different version, a malformed date and negative counts are errors, so
// a hand-edited or future file is not misread.
func DecodeSummary(data []byte) (*Summary, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Summary
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("audit summary: %w", err)
	}
	if dec.More() {
		return nil, errors.New("audit summary: more than one JSON value")
	}
	if s.Version != SchemaVersion {
		return nil, fmt.Errorf("audit summary has version %d, this keyform reads version %d: run keyform audit --record again", s.Version, SchemaVersion)
	}
	if _, err := time.Parse(DateLayout, s.Date); err != nil {
		return nil, fmt.Errorf("audit summary date %q is not YYYY-MM-DD", s.Date)
	}
	counts := []int64{s.Paths, s.NotFound, s.Covered, s.RetiredOnly, s.ContentAddressed, s.Unsigned, s.Invalid, s.Malformed}
	for name, k := range s.Keys {
		if k == nil {
			return nil, fmt.Errorf("audit summary: key %s has no counts", name)
		}
		counts = append(counts, k.Valid, k.Invalid, k.WouldStrand)
	}
	for _, c := range counts {
		if c < 0 {
			return nil, errors.New("audit summary holds a negative count")
		}
	}
	if s.Keys == nil {
		s.Keys = map[string]*KeySummary{}
	}
	return &s, nil
}

// NarinfoCacheTTL is Nix's default narinfo-cache-positive-ttl: how long a
// client may keep using a narinfo (and its signatures) it looked up.
const NarinfoCacheTTL = 30 * 24 * time.Hour

// SafeFrom is the first day on which every client has seen the cache as
// it was audited, if they use the default narinfo-cache-positive-ttl:
// the audit date plus ttl.
func (s *Summary) SafeFrom(ttl time.Duration) (time.Time, error) {
	d, err := time.Parse(DateLayout, s.Date)
	if err != nil {
		return time.Time{}, err
	}
	return d.Add(ttl), nil
}

// Strands returns how many paths retiring the key named keyName would
// strand, and whether this summary can tell: it lists the key, as active
// (a summary recorded after the retire lists it as retired, with nothing
// to strand, and proves nothing).
func (s *Summary) Strands(keyName string) (n int64, audited bool) {
	k, ok := s.Keys[keyName]
	if !ok || k.State != string(policy.Active) {
		return 0, false
	}
	return k.WouldStrand, true
}

// RetireNote is the one-line risk note `plan` shows for retiring the key
// named keyName, for example
//
//	retiring acme_2026: 0 of 12345 paths rely on it alone, audited 2026-12-01
func (s *Summary) RetireNote(keyName string) string {
	k, ok := s.Keys[keyName]
	switch {
	case !ok:
		return fmt.Sprintf("retiring %s: the audit of catalog %s (%s) does not list this key: run keyform audit %s --record", keyName, s.Catalog, s.Date, s.Catalog)
	case k.State != string(policy.Active):
		return fmt.Sprintf("retiring %s: the audit of catalog %s (%s) was recorded with the key already %s, so it cannot tell what the key alone signs: record it before retiring", k.Label, s.Catalog, s.Date, k.State)
	}
	return fmt.Sprintf("retiring %s: %d of %d paths rely on it alone, audited %s", k.Label, k.WouldStrand, s.Paths, s.Date)
}
