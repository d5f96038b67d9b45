package resign

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/cachegen"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// TestRequestRun: a file:// cache is signed and reported (the paths list
// ignored, with a warning); another cache gets the nix store sign command,
// with credentials kept out of what is said.
func TestRequestRun(t *testing.T) {
	dir, keyDir := t.TempDir(), t.TempDir()
	old, nw := genKey(t, "acme-1", 1), genKey(t, "acme-2", 2)
	if _, err := cachegen.Generate(dir, cachegen.Options{Paths: 3, Signers: []*keys.SecretKey{old}, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(keyDir, "acme-2.sk")
	if err := os.WriteFile(keyFile, nw.Encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	var rep report.Log
	k := &policy.Key{Label: "acme_2", Name: "acme-2", PublicKey: nw.Public().String(), PrivateKeyPath: keyFile}
	req := Request{Key: k, Store: "file://" + dir, Paths: "paths.txt", Format: "text", Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Source: KeySource{Outside: func(string) error { return nil }, Warn: &rep}}
	var out strings.Builder
	if err := req.Run(context.Background(), &out, &rep); err != nil {
		t.Fatal(err)
	}
	if want := "resigned file://" + dir + " with acme-2: 3 narinfos, 3 signed, 0 already signed, 0 malformed\n"; out.String() != want {
		t.Errorf("report %q, want %q", out.String(), want)
	}
	if len(rep) != 2 || !strings.HasPrefix(rep[0], "warning: --paths is ignored for file://") || !strings.Contains(rep[1], "on or after 2026-12-31") {
		t.Errorf("said %q", rep)
	}

	out.Reset()
	rep = nil
	req.Store, req.Paths = "https://user:secret@cache.example.org", ""
	if err := req.Run(context.Background(), &out, &rep); err != nil {
		t.Fatal(err)
	}
	if out.String() != Command(req.Store, keyFile, "")+"\n" || strings.Contains(out.String(), "secret") || len(rep) != 1 || strings.Contains(rep[0], "secret") || !strings.Contains(rep[0], "cache.example.org") {
		t.Errorf("HTTP cache: printed %q, said %q", out.String(), rep)
	}
}
