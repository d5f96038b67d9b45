package audit

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyform/keyform/policy"
)

func retirePolicy() *policy.Policy {
	return &policy.Policy{Keys: []*policy.Key{
		{Label: "acme_2025", Name: "acme-1", Catalog: "acme", PublicKey: "acme-1:x", State: policy.Active},
		{Label: "acme_2026", Name: "acme-2", Catalog: "acme", State: policy.Active}, // pending
		{Label: "acme_2027", Name: "acme-3", Catalog: "acme", PublicKey: "acme-3:x", State: policy.Active},
		{Label: "other_1", Name: "other-1", Catalog: "other", PublicKey: "other-1:x", State: policy.Active},
	}}
}

func TestSuccessor(t *testing.T) {
	p := retirePolicy()
	if s := Successor(p, p.Keys[0]); s == nil || s.Label != "acme_2027" {
		t.Fatalf("Successor(acme_2025) = %v, want acme_2027 (the pending acme_2026 cannot sign)", s)
	}
	if s := Successor(p, p.Keys[2]); s == nil || s.Label != "acme_2025" {
		t.Fatalf("Successor(acme_2027) = %v, want acme_2025", s)
	}
	if s := Successor(p, p.Keys[3]); s != nil {
		t.Fatalf("Successor(other_1) = %v, want none", s)
	}
}

func summary(date string, keys map[string]*KeySummary) *Summary {
	return &Summary{Version: SchemaVersion, Catalog: "acme", Store: "file:///srv/cache", Date: date, Paths: 12345, Keys: keys}
}

func TestCheckRetire(t *testing.T) {
	p := retirePolicy()
	k, succ := p.Keys[0], p.Keys[2]
	clean := summary("2026-12-01", map[string]*KeySummary{"acme-1": {Label: "acme_2025", State: "active", WouldStrand: 0}})
	strands := summary("2026-12-01", map[string]*KeySummary{"acme-1": {Label: "acme_2025", State: "active", WouldStrand: 300}})
	after := summary("2026-12-01", map[string]*KeySummary{"acme-1": {Label: "acme_2025", State: "retired"}})

	if err := CheckRetire([]*Summary{clean}, k, p.Keys, succ, false); err != nil {
		t.Fatalf("nothing stranded: %v", err)
	}
	err := CheckRetire([]*Summary{clean, strands}, k, p.Keys, succ, false)
	var se *StrandError
	if !errors.As(err, &se) {
		t.Fatalf("stranded paths: %v", err)
	}
	if got, want := err.Error(), "retiring acme_2025 would strand 300 of 12345 paths in file:///srv/cache: no other active key signs them"; got != want {
		t.Errorf("error\n got %s\nwant %s", got, want)
	}
	if got, want := se.Hint(), "keyform resign acme_2027 --store file:///srv/cache, then keyform retire acme_2025 again (or --force to retire anyway)"; got != want {
		t.Errorf("hint\n got %s\nwant %s", got, want)
	}
	se.Recorded = true
	if !strings.Contains(se.Hint(), "--store file:///srv/cache and keyform audit acme --record, then") {
		t.Errorf("recorded evidence: the hint must say to record again: %s", se.Hint())
	}
	se.Successor = nil
	if !strings.HasPrefix(se.Hint(), "add a successor (keyform rotate acme_2025)") {
		t.Errorf("no successor: %s", se.Hint())
	}
	if err := CheckRetire([]*Summary{after}, k, p.Keys, succ, true); !errors.Is(err, ErrNotAudited) || !strings.Contains(err.Error(), "already retired") {
		t.Fatalf("a summary recorded after the retire proves nothing: %v", err)
	}
	if err := CheckRetire([]*Summary{summary("2026-12-01", map[string]*KeySummary{})}, k, p.Keys, succ, true); !errors.Is(err, ErrNotAudited) {
		t.Fatalf("a summary without the key: %v", err)
	}
	// acme_2027 was active when the audit counted acme_2025's paths as
	// covered by it; now it is retired, so those paths rely on acme_2025
	// alone and the summary understates what retiring it strands.
	both := summary("2026-12-01", map[string]*KeySummary{
		"acme-1": {Label: "acme_2025", State: "active"}, "acme-3": {Label: "acme_2027", State: "active"},
	})
	if err := CheckRetire([]*Summary{both}, k, p.Keys, succ, true); err != nil {
		t.Fatalf("current summary: %v", err)
	}
	p.Keys[2].State = policy.Retired
	err = CheckRetire([]*Summary{both}, k, p.Keys, nil, true)
	if !errors.Is(err, ErrNotAudited) || !strings.Contains(err.Error(), "counted acme_2027 as active, which the policy no longer does") {
		t.Fatalf("stale summary: %v", err)
	}
	if got := both.Stale(p.Keys, "acme-1"); len(got) != 1 || got[0] != "acme_2027" {
		t.Fatalf("Stale = %v", got)
	}
}

func TestCacheTTL(t *testing.T) {
	a := summary("2026-12-01", nil)
	b := summary("2026-11-01", nil)
	day := func(s string) time.Time { d, _ := time.Parse(DateLayout, s); return d }
	if got, _ := SafeFromAll([]*Summary{b, a}, NarinfoCacheTTL); !got.Equal(day("2026-12-31")) {
		t.Fatalf("SafeFromAll = %v, want the later store's 2026-12-31", got)
	}
	w := CacheTTLWarning([]*Summary{a, b}, day("2026-12-30"))
	if want := "may not trust it until 2026-12-31; wait, or lower narinfo-cache-positive-ttl on clients first"; !strings.HasSuffix(w, want) || !strings.HasPrefix(w, "clients cache narinfos for up to 30 days") {
		t.Fatalf("warning a day early: %q", w)
	}
	if w := CacheTTLWarning([]*Summary{a, b}, day("2026-12-31")); w != "" {
		t.Fatalf("warning on the safe day: %q", w)
	}
	if w := CacheTTLWarning(nil, day("2026-12-31")); w != "" {
		t.Fatalf("warning without evidence: %q", w)
	}
	if n := a.CacheNote(); !strings.HasPrefix(n, "clients may keep narinfos they cached before the audit until 2026-12-31 (narinfo-cache-positive-ttl, 30 days by default)") {
		t.Fatalf("CacheNote = %q", n)
	}
}

// Recorded summaries arrive in pull requests: decoding any bytes never
// panics, what decodes re-encodes to bytes that decode the same, and the
// notes plan and retire build from it never panic either.
func FuzzDecodeSummary(f *testing.F) {
	good, _ := summary("2026-12-01", map[string]*KeySummary{
		"acme-1": {Label: "acme_2025", State: "active", Valid: 3, WouldStrand: 1},
		"acme-3": {Label: "acme_2027", State: "retired", Valid: 2},
	}).Encode()
	f.Add(good)
	f.Add([]byte(`{"version":1,"catalog":"acme","store":"x","date":"2026-02-30","keys":{"a":null}}`))
	f.Add([]byte(`{"version":1,"paths":-1}`))
	f.Add([]byte(`{"version":1} {}`))
	p := retirePolicy()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSummary(data)
		if err != nil {
			return
		}
		enc, err := s.Encode()
		if err != nil {
			t.Fatalf("a decoded summary does not encode: %v", err)
		}
		back, err := DecodeSummary(enc)
		if err != nil {
			t.Fatalf("re-encoded summary does not decode: %v\n%s", err, enc)
		}
		if again, _ := back.Encode(); !bytes.Equal(again, enc) {
			t.Fatalf("round trip changed the summary:\n%s\n%s", enc, again)
		}
		for name := range s.Keys {
			s.RetireNote(name)
			s.StaleNote(name, s.Stale(p.Keys, name))
		}
		s.CacheNote()
		CheckRetire([]*Summary{s}, p.Keys[0], p.Keys, p.Keys[2], true)
		CacheTTLWarning([]*Summary{s}, time.Now())
	})
}
