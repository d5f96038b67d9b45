package schema

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/keyform/keyform/internal/hint"
)

// TestStarter: the starter policy is formatted, loads (its key waiting for
// keygen) and puts the private key where it was asked to.
func TestStarter(t *testing.T) {
	src, err := Starter("/home/alice/.config/keyform/cache.example.org-1.key")
	if err != nil {
		t.Fatal(err)
	}
	if out, res := Format(src, "keyform.hcl"); res != nil || !bytes.Equal(out, src) {
		t.Errorf("the starter policy is not keyform fmt clean")
	}
	res := LoadFS(fstest.MapFS{"keyform.hcl": {Data: src}}, ".", Options{AllowPending: true, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if res.HasErrors() {
		t.Fatalf("the starter policy does not load: %v", res.Diags)
	}
	p := res.Policy
	if len(p.Catalogs) != 1 || len(p.Keys) != 1 || len(p.Targets) != 2 || !p.Keys[0].Pending() ||
		p.Keys[0].PrivateKeyPath != "/home/alice/.config/keyform/cache.example.org-1.key" {
		t.Errorf("starter policy: %d catalogs, %d keys, %d targets, key %+v", len(p.Catalogs), len(p.Keys), len(p.Targets), p.Keys[0])
	}
	for _, bad := range []string{`/a"b/k.key`, `/a\b/k.key`, "/a${x}/k.key", "/a%{x}/k.key", "/a\nb/k.key"} {
		if _, err := Starter(bad); !errors.Is(err, ErrUnquotable) {
			t.Errorf("Starter(%q): %v, want ErrUnquotable", bad, err)
		}
	}
}

// WriteStarter writes keyform.hcl once and never replaces it.
func TestWriteStarter(t *testing.T) {
	dir := t.TempDir()
	if err := WriteStarter(dir, "/k/a.key"); err != nil {
		t.Fatal(err)
	}
	want, _ := Starter("/k/a.key")
	if got, err := os.ReadFile(filepath.Join(dir, "keyform.hcl")); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("keyform.hcl: %v\n%s", err, got)
	}
	err := WriteStarter(dir, "/k/b.key")
	if err == nil || err.Error() != "keyform.hcl already exists; not overwriting it" || !strings.HasPrefix(hint.Of(err), "edit it") {
		t.Errorf("second write: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "keyform.hcl")); !bytes.Equal(got, want) {
		t.Error("keyform.hcl was replaced")
	}
	other := t.TempDir()
	if err := WriteStarter(other, `/a"b/k.key`); !errors.Is(err, ErrUnquotable) {
		t.Errorf("unquotable path: %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, "keyform.hcl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unquotable path wrote a file: %v", err)
	}
}
