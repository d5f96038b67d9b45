package schema

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hashicorp/hcl/v2"

	"github.com/keyform/keyform/policy"
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

// An expired active key is an error in the default mode (validate, check,
// plan), a warning in ExpiredIsWarning, and nothing in ExpiryIgnored; the
// policy loads in the last two, and the key reads as expired.
func TestExpiryModes(t *testing.T) {
	fsys := fstest.MapFS{"keyform.hcl": {Data: []byte(`catalog "acme" {}

key "expired" {
  name       = "cache.acme.example-2"
  catalog    = catalog.acme
  public_key = "cache.acme.example-2:Xz81cuq/+NJl6ZJ7UAgWGJRgj1gE4p/jCPejDqMwWNo="
  expires    = "2026-11-24"
}

key "soon" {
  name       = "cache.acme.example-3"
  catalog    = catalog.acme
  public_key = "cache.acme.example-3:ahIJtQ2D/uc93ZhAyExtjptBtp7i5Io2P1gRxfnblbk="
  expires    = "2026-12-01"
}

key "old" {
  name       = "cache.acme.example-1"
  catalog    = catalog.acme
  public_key = "cache.acme.example-1:lpfqH+fcLGmdsVTRcsBOIBL6SE+8KYxUuK80GbyfIIQ="
  expires    = "2020-01-01"
  state      = "retired"
}

target "nixos" "a" {
  trust = [catalog.acme]
}
`)}}
	type summary struct {
		severity string
		text     string
	}
	diagsOf := func(res *Result) []summary {
		var out []summary
		for _, d := range res.Diags {
			sev := "warning"
			if d.Severity == hcl.DiagError {
				sev = "error"
			}
			out = append(out, summary{sev, d.Summary})
		}
		return out
	}
	for _, c := range []struct {
		mode Expiry
		want []summary
	}{
		{ExpiredIsError, []summary{{"error", "Key expired"}, {"warning", "Key expires soon"}}},
		{ExpiredIsWarning, []summary{{"warning", "Key expired"}, {"warning", "Key expires soon"}}},
		{ExpiryIgnored, nil},
	} {
		res := LoadFS(fsys, ".", Options{Now: testNow, Expiry: c.mode})
		if got := diagsOf(res); !slices.Equal(got, c.want) {
			t.Errorf("mode %d: diagnostics %v, want %v", c.mode, got, c.want)
		}
		if c.mode == ExpiredIsError {
			if res.Policy != nil {
				t.Error("an expired key loaded in ExpiredIsError mode")
			}
			continue
		}
		p := res.Policy
		if p == nil {
			t.Fatalf("mode %d: the policy does not load", c.mode)
		}
		// The expired key is still trusted: the date does not take it
		// away from machines.
		if keys := p.Target("nixos.a").Keys; len(keys) != 2 || keys[0].Label != "expired" {
			t.Errorf("mode %d: target trusts %v, want the expired key still", c.mode, keys)
		}
		for label, want := range map[string]string{"expired": "expired", "soon": "active", "old": "retired"} {
			if got := p.Key(label).Status(testNow); got != want {
				t.Errorf("key %s: Status = %q, want %q", label, got, want)
			}
		}
		if got := policy.ExpiredKeys(p.Keys, testNow); len(got) != 1 || got[0].Label != "expired" {
			t.Errorf("ExpiredKeys = %v", got)
		}
	}
	// SkipExpiry, from before the modes, still means ExpiryIgnored.
	if res := LoadFS(fsys, ".", Options{Now: testNow, SkipExpiry: true}); len(res.Diags) != 0 {
		t.Errorf("SkipExpiry: %v", res.Diags)
	}
}
