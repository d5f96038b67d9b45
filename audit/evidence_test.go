package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/policy"
)

// gatePolicy is catalog acme with its keys and stores.
func gatePolicy(keys []*policy.Key, stores ...string) *policy.Policy {
	return &policy.Policy{Catalogs: []*policy.Catalog{{Label: "acme", Substituters: stores}}, Keys: keys}
}

func TestBeforeRetireWithoutAudit(t *testing.T) {
	k := &policy.Key{Label: "acme_2025", Catalog: "acme"}
	var s report.Log
	sums, err := RetireGate{Skip: true}.BeforeRetire(&s, gatePolicy([]*policy.Key{k}), k)
	if sums != nil || err != nil || len(s) != 1 || !strings.HasPrefix(s[0], "note: not auditing the caches of catalog acme (--skip-audit)") {
		t.Errorf("--skip-audit: %v %v, said %q", sums, err, s)
	}
	s = nil
	free := &policy.Key{Label: "free"}
	if sums, err := (RetireGate{}).BeforeRetire(&s, gatePolicy(nil), free); sums != nil || err != nil || s[0] != "note: key free belongs to no catalog, so there is no cache to audit" {
		t.Errorf("no catalog: %v %v, said %q", sums, err, s)
	}
}

// A fresh audit of the catalog's store: retiring a key whose paths all
// carry the other key's signature is fine and said; one that strands
// paths is refused, unless forced.
func TestBeforeRetireFreshAudit(t *testing.T) {
	old, succ := genKey(t, "acme-1", 1), genKey(t, "acme-2", 2)
	keys := []*policy.Key{policyKey("acme_2025", old, policy.Active), policyKey("acme_2026", succ, policy.Active)}
	clean := t.TempDir()
	gen(t, clean, 1, 10, old, succ)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

	var s report.Log
	prog := &progressLine{}
	g := RetireGate{PolicyDir: t.TempDir(), Now: now, Progress: prog}
	sums, err := g.BeforeRetire(&s, gatePolicy(keys, "file://"+clean), keys[0])
	if err != nil || len(sums) != 1 || sums[0].Date != "2026-12-01" || prog.dones != 1 {
		t.Fatalf("clean: %v %v", sums, err)
	}
	if len(s) != 1 || !strings.HasSuffix(s[0], " (file://"+clean+")") || !strings.Contains(s[0], "acme_2025") {
		t.Errorf("said %q", s)
	}

	stranding := t.TempDir()
	gen(t, stranding, 2, 5, old)
	p := gatePolicy(keys, "file://"+stranding)
	_, err = g.BeforeRetire(new(report.Log), p, keys[0])
	var se *StrandError
	if !errors.As(err, &se) || se.Strands != 5 || se.Successor != keys[1] || se.Recorded {
		t.Fatalf("stranding: %v", err)
	}
	s = nil
	g.Force = true
	if sums, err := g.BeforeRetire(&s, p, keys[0]); sums != nil || err != nil || len(s) != 1 || s[0] != "warning: "+se.Error()+"; retiring anyway (--force)" {
		t.Errorf("--force: %v %v, said %q", sums, err, s)
	}
}

// A cache that cannot be audited is refused with what to do; standard
// input for several stores is left to the caller to call a usage error.
func TestBeforeRetireCannotAudit(t *testing.T) {
	k := &policy.Key{Label: "acme_2025", Name: "acme-1", Catalog: "acme", PublicKey: "acme-1:x", State: policy.Active}
	p := gatePolicy([]*policy.Key{k}, "http://127.0.0.1:1/a", "http://127.0.0.1:1/b")
	_, err := RetireGate{}.BeforeRetire(new(report.Log), p, k)
	if !errors.Is(err, ErrNotListed) || !strings.HasPrefix(hint.Of(err), "pass --paths FILE to audit it, --force") {
		t.Errorf("HTTP without a list: %v (%s)", err, hint.Of(err))
	}
	_, err = RetireGate{Access: Access{Paths: "-"}}.BeforeRetire(new(report.Log), p, k)
	if err != ErrPathsStdin {
		t.Errorf("standard input for two stores: %v", err)
	}
	_, err = RetireGate{Store: filepath.Join(t.TempDir(), "nope")}.BeforeRetire(new(report.Log), p, k)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot audit catalog acme: ") || !strings.HasPrefix(hint.Of(err), "pass --force to retire without an audit") {
		t.Errorf("unreadable store: %v (%s)", err, hint.Of(err))
	}
}

// The recorded audit is the evidence when it shows the key active and no
// store is named; --audit FILE must be of the key's catalog.
func TestBeforeRetireRecorded(t *testing.T) {
	c := newMixedCache(t)
	keys := c.keys(policy.Active)
	dir := t.TempDir()
	recordFor(t, c, dir, keys)
	p := gatePolicy(keys, "file://"+c.dir)
	var s report.Log
	_, err := RetireGate{PolicyDir: dir}.BeforeRetire(&s, p, keys[0])
	var se *StrandError
	if !errors.As(err, &se) || !se.Recorded || len(s) != 1 || s[0] != "using the audit of 2026-12-01 (audit/acme.json)" {
		t.Errorf("recorded: %v, said %q", err, s)
	}

	data, err := os.ReadFile(filepath.Join(dir, "audit", "acme.json"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "other.json")
	os.WriteFile(file, []byte(strings.Replace(string(data), `"catalog": "acme"`, `"catalog": "web"`, 1)), 0o644)
	_, err = RetireGate{File: "other.json", FilePath: file}.BeforeRetire(new(report.Log), p, keys[0])
	if err == nil || !strings.HasPrefix(err.Error(), "--audit other.json holds the audit of catalog web, not acme") {
		t.Errorf("--audit of another catalog: %v", err)
	}
	s = nil
	_, err = RetireGate{File: "acme.json", FilePath: filepath.Join(dir, "audit", "acme.json")}.BeforeRetire(&s, p, keys[0])
	if !errors.As(err, &se) || len(s) != 1 || s[0] != "using the audit of 2026-12-01 (acme.json)" {
		t.Errorf("--audit: %v, said %q", err, s)
	}
}
