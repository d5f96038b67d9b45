package schema

import (
	"strings"
	"testing"
	"testing/fstest"
)

// SkipExpiry lets plan read a base revision, and rotate and retire read a
// policy, whose key expired since: the expiry error must not block the fix.
func TestSkipExpiry(t *testing.T) {
	fsys := fstest.MapFS{"keyform.hcl": {Data: []byte(`catalog "acme" {}

key "expired" {
  name       = "cache.acme.example-2"
  catalog    = catalog.acme
  public_key = "cache.acme.example-2:Xz81cuq/+NJl6ZJ7UAgWGJRgj1gE4p/jCPejDqMwWNo="
  expires    = "2026-11-01"
}

target "nixos" "a" {
  trust = [catalog.acme]
}
`)}}
	res := LoadFS(fsys, ".", Options{Now: testNow})
	if !res.HasErrors() || !strings.Contains(res.Diags.Error(), "Key expired") {
		t.Fatalf("expired key loaded without the expiry error: %v", res.Diags)
	}
	res = LoadFS(fsys, ".", Options{Now: testNow, SkipExpiry: true})
	if len(res.Diags) > 0 {
		t.Fatalf("SkipExpiry still reports: %v", res.Diags)
	}
	if got := res.Policy.Key("expired").Expires.Format("2006-01-02"); got != "2026-11-01" {
		t.Errorf("Expires = %s, want it read even when not judged", got)
	}
}
