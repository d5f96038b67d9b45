package plan

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/keyform/keyform/policy"
)

func TestAuditNotes(t *testing.T) {
	mk := func(state1 policy.KeyState) *policy.Policy {
		return &policy.Policy{Keys: []*policy.Key{
			{Label: "acme_2025", Name: "acme-1", Catalog: "acme", PublicKey: "acme-1:x", State: state1},
			{Label: "acme_2027", Name: "acme-2", Catalog: "acme", PublicKey: "acme-2:x", State: policy.Active},
			{Label: "loose", Name: "loose-1", PublicKey: "loose-1:x", State: state1},
		}}
	}
	base, head := mk(policy.Active), mk(policy.Retired)
	record := func(state string, strand int) fstest.MapFS {
		return fstest.MapFS{"audit/acme.json": {Data: []byte(`{"version":1,"catalog":"acme","store":"file:///srv/cache","date":"2026-12-01",
"paths":12345,"not_found":0,"covered":12345,"retired_only":0,"content_addressed":0,"unsigned":0,"invalid":0,"malformed":0,
"keys":{"acme-1":{"label":"acme_2025","state":"` + state + `","valid":12000,"invalid":0,"would_strand":` + strings.Repeat("3", strand) + `0},
"acme-2":{"label":"acme_2027","state":"active","valid":12345,"invalid":0,"would_strand":345}}}`)}}
	}
	for _, tc := range []struct {
		name              string
		fsys              fstest.MapFS
		level, code, want string
	}{
		{"none", fstest.MapFS{}, Warning, "retire_not_audited",
			"retiring acme_2025: no audit of catalog acme recorded: run keyform audit acme --record"},
		{"audited", record("active", 0), Info, "retire_audited",
			"retiring acme_2025: 0 of 12345 paths rely on it alone, audited 2026-12-01 (file:///srv/cache); clients may keep narinfos they cached before the audit until 2026-12-31 (narinfo-cache-positive-ttl, 30 days by default): retire on or after that day, or lower narinfo-cache-positive-ttl on clients first"},
		{"strands", record("active", 2), Danger, "retire_strands_paths",
			"retiring acme_2025: 330 of 12345 paths rely on it alone, audited 2026-12-01 (file:///srv/cache): once this is applied, clients stop trusting them; sign them with acme_2027 first (keyform resign acme_2027 --store file:///srv/cache), then keyform audit acme --record"},
		{"recorded after the retire", record("retired", 0), Warning, "retire_not_audited",
			"retiring acme_2025: the audit of catalog acme (2026-12-01) was recorded with the key already retired, so it cannot tell what the key alone signs: record it before retiring"},
		{"unreadable", fstest.MapFS{"audit/acme.json": {Data: []byte(`{"version":2}`)}}, Warning, "retire_not_audited",
			"retiring acme_2025: cannot use audit/acme.json (audit summary has version 2, this keyform reads version 1: run keyform audit --record again); record it with keyform audit acme --record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			notes := AuditNotes(tc.fsys, base, head)
			if len(notes) != 1 {
				t.Fatalf("notes = %+v, want one for acme_2025 (loose has no catalog, hence no cache)", notes)
			}
			n := notes[0]
			if n.Level != tc.level || n.Code != tc.code || n.Subject != "key.acme_2025" || n.Message != tc.want {
				t.Errorf("note = %+v\nwant %s %s %s", n, tc.level, tc.code, tc.want)
			}
		})
	}
	// Retiring both keys in one change: the record counted acme_2027 as
	// active, so it cannot tell what acme_2025 alone signs.
	both := mk(policy.Retired)
	both.Keys[1].State = policy.Retired
	notes := AuditNotes(record("active", 0), base, both)
	if len(notes) != 2 || notes[0].Code != "retire_not_audited" ||
		!strings.Contains(notes[0].Message, "counted acme_2027 as active, which the policy no longer does") {
		t.Errorf("both retired: %+v", notes)
	}
	// A named pipe committed in place of the record does not hang plan.
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "audit"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(dir, "audit", "acme.json"), 0o644); err == nil {
		notes := AuditNotes(os.DirFS(dir), base, head)
		if len(notes) != 1 || notes[0].Code != "retire_not_audited" || !strings.Contains(notes[0].Message, "named pipe") {
			t.Errorf("FIFO record: %+v", notes)
		}
	}
	if notes := AuditNotes(record("active", 0), head, head); len(notes) != 0 {
		t.Errorf("no key retired between base and head: %+v", notes)
	}
	if notes := AuditNotes(record("active", 0), nil, head); len(notes) != 0 {
		t.Errorf("no base (everything new): %+v", notes)
	}
}
