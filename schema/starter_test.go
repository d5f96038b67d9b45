package schema

import (
	"bytes"
	"testing"
	"testing/fstest"
	"time"
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
		if _, err := Starter(bad); err == nil {
			t.Errorf("Starter(%q): no error", bad)
		}
	}
}
