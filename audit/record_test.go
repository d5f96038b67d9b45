package audit

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyform/keyform/policy"
)

func TestRecord(t *testing.T) {
	dir := t.TempDir()
	if s, err := ReadRecord(dir, "acme"); s != nil || err != nil {
		t.Fatalf("no record: %v %v", s, err)
	}
	c := newMixedCache(t)
	r := run(t, c.dir, Options{Keys: c.keys(policy.Retired)})
	s := r.Summary(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err := WriteRecord(dir, s); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "audit", "acme.json"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("record file: %v %v", fi, err)
	}
	back, err := ReadRecord(dir, "acme")
	if err != nil || back.Paths != s.Paths || back.Date != "2026-12-01" {
		t.Fatalf("ReadRecord: %+v %v", back, err)
	}
	os.Rename(filepath.Join(dir, "audit", "acme.json"), filepath.Join(dir, "audit", "other.json"))
	if _, err := ReadRecord(dir, "other"); err == nil || !strings.Contains(err.Error(), `not "other"`) {
		t.Fatalf("a record for another catalog: %v", err)
	}
}

// A record is committed with a pull request: a named pipe in its place
// is refused without waiting for a writer, and so is a huge file.
func TestReadRecordRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "audit"), 0o755)
	if err := syscall.Mkfifo(filepath.Join(dir, "audit", "acme.json"), 0o644); err != nil {
		t.Skip(err)
	}
	if _, err := ReadRecord(dir, "acme"); err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Fatalf("a FIFO record: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "audit", "big.json"), make([]byte, MaxRecordSize+1), 0o644)
	if _, err := ReadRecord(dir, "big"); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("a record over the limit: %v", err)
	}
}

func TestKeysOf(t *testing.T) {
	p := &policy.Policy{Keys: []*policy.Key{
		{Label: "a", Catalog: "acme"}, {Label: "b", Catalog: "other"}, {Label: "c", Catalog: "acme"}, {Label: "d"},
	}}
	got := KeysOf(p, "acme")
	if len(got) != 2 || got[0].Label != "a" || got[1].Label != "c" {
		t.Fatalf("KeysOf = %v", got)
	}
}
