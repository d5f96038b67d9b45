package audit_test

// Tests against real Nix and a real nginx (internal/nixcache). They skip
// when nix (or nginx) is missing, unless KEYFORM_REQUIRE_NIX=1, which
// makes that a failure:
//
//	KEYFORM_REQUIRE_NIX=1 go test -run 'Nix' -v ./audit/
//
// They compare keyform's audit of a cache built with real Nix with
// `nix store verify` path by path.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/internal/nixcache"
	"github.com/keyform/keyform/internal/nixtest"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/resign"
)

func auditKeys(c *nixcache.Cache, oldState, newState policy.KeyState) []*policy.Key {
	return []*policy.Key{
		{Label: "acme_old", Name: c.Old.SK.Name, PublicKey: c.Old.Pub, State: oldState},
		{Label: "acme_new", Name: c.New.SK.Name, PublicKey: c.New.Pub, State: newState},
	}
}

func runAudit(t *testing.T, store string, ks []*policy.Key, paths []string) *audit.Report {
	t.Helper()
	s, err := binarycache.Open(context.Background(), store, binarycache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := audit.Options{Catalog: "acme", Keys: ks, Examples: 1000}
	if paths != nil {
		o.Paths = strings.NewReader(strings.Join(paths, "\n") + "\n")
	}
	r, err := audit.Run(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// notCovered is what Nix calls untrusted when it trusts the report's
// active keys: paths signed only by retired keys, or by none.
func notCovered(r *audit.Report) []string {
	out := slices.Concat(r.Examples.RetiredOnly, r.Examples.Unsigned)
	slices.Sort(out)
	return out
}

func TestNixAuditMatchesVerify(t *testing.T) {
	c := nixcache.NewCache(t)
	for _, tc := range []struct {
		name             string
		oldState, newSt  policy.KeyState
		trusted          []string
		covered, retired int64
	}{
		{"new_active_old_retired", policy.Retired, policy.Active, []string{c.New.Pub}, 10 + 6, 10},
		{"old_active_new_retired", policy.Active, policy.Retired, []string{c.Old.Pub}, 10 + 9, 6 + 1},
		{"both_active", policy.Active, policy.Active, []string{c.Old.Pub, c.New.Pub}, 10 + 10 + 6, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runAudit(t, "file://"+c.Dir, auditKeys(c, tc.oldState, tc.newSt), nil)
			// The cache is built with the nix on PATH; every Nix version
			// judges it.
			nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
				untrusted, code := nixcache.Untrusted(t, n.Bin("nix"), c.Dir, tc.trusted...)
				if got := notCovered(r); !slices.Equal(got, untrusted) {
					t.Fatalf("keyform: %d paths not covered, nix store verify: %d untrusted\nkeyform %v\nnix     %v", len(got), len(untrusted), got, untrusted)
				}
				if (code == 0) != (r.RetiredOnly+r.Unsigned == 0) {
					t.Fatalf("nix exit %d, keyform retired-only %d unsigned %d", code, r.RetiredOnly, r.Unsigned)
				}
			})
			if r.Paths != 34 || r.Covered != tc.covered || r.RetiredOnly != tc.retired || r.Unsigned != 6+1 ||
				r.ContentAddressed != 1 || r.Invalid != 1 || r.Malformed != 0 {
				t.Fatalf("counts: %+v", r)
			}
			if r.Examples.Invalid[0].Path != c.Corrupt || r.Keys["audit-old-1"].Invalid != 1 {
				t.Fatalf("invalid: %+v", r.Examples.Invalid)
			}
		})
	}
}

func TestNixAuditOverNginx(t *testing.T) {
	c := nixcache.NewCache(t)
	url := nixcache.Nginx(t, c.Dir)
	ks := auditKeys(c, policy.Retired, policy.Active)
	local := runAudit(t, "file://"+c.Dir, ks, nil)
	missing := "/nix/store/" + strings.Repeat("0", 32) + "-not-cached"
	remote := runAudit(t, url, ks, append(slices.Clone(c.All), missing))
	if remote.NotFound != 1 || remote.Store != url {
		t.Fatalf("not found %d, store %s", remote.NotFound, remote.Store)
	}
	remote.Store, remote.NotFound = local.Store, 0
	a, _ := json.Marshal(local)
	b, _ := json.Marshal(remote)
	if !bytes.Equal(a, b) {
		t.Fatalf("audit over HTTP differs from the file:// audit:\n%s\n%s", b, a)
	}
}

func TestNixResign(t *testing.T) {
	c := nixcache.NewCache(t)
	before := map[string][]byte{}
	for _, p := range c.All {
		before[p], _ = os.ReadFile(nixcache.NarinfoFile(c.Dir, p))
	}
	if untrusted, _ := nixcache.Untrusted(t, "", c.Dir, c.New.Pub); len(untrusted) != 10+6+1 {
		t.Fatalf("before resign nix finds %d untrusted paths, want 17", len(untrusted))
	}
	if err := resign.CheckKey(c.New.SK, c.New.Pub); err != nil {
		t.Fatal(err)
	}
	s, err := binarycache.OpenFile(c.Dir, binarycache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := resign.File(context.Background(), s, resign.Options{Key: c.New.SK})
	if err != nil || res.Signed != 18 || res.AlreadySigned != 16 || res.Malformed != 0 {
		t.Fatalf("resign: %+v %v", res, err)
	}
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
		if untrusted, code := nixcache.Untrusted(t, n.Bin("nix"), c.Dir, c.New.Pub); code != 0 || len(untrusted) != 0 {
			t.Fatalf("after resign nix store verify exits %d, untrusted %v", code, untrusted)
		}
	})
	// Every line but the new Sig line is unchanged, in place.
	for _, p := range c.All {
		now, _ := os.ReadFile(nixcache.NarinfoFile(c.Dir, p))
		if bytes.Equal(now, before[p]) {
			continue
		}
		n, _ := keys.ParseNarinfo(now)
		sig, _ := c.New.SK.SignNarinfo(n)
		if got := bytes.Replace(now, []byte("Sig: "+sig.String()+"\n"), nil, 1); !bytes.Equal(got, before[p]) {
			t.Fatalf("%s changed beyond the new signature:\n%s\nwas\n%s", p, now, before[p])
		}
	}
	again, err := resign.File(context.Background(), s, resign.Options{Key: c.New.SK})
	if err != nil || again.Signed != 0 {
		t.Fatalf("second resign: %+v %v", again, err)
	}
	// A fresh store that trusts only the new key substitutes every path
	// (but the one whose CA field was altered: its content does not match
	// the address it claims, whoever signed it).
	root := filepath.Join(t.TempDir(), "root")
	copyPaths := slices.DeleteFunc(slices.Clone(c.All), func(p string) bool { return p == c.FakeCA })
	_, stderr, code := nixcache.Run(t, "nix", append([]string{"--extra-experimental-features", "nix-command",
		"copy", "--from", "file://" + c.Dir, "--store", root,
		"--option", "trusted-public-keys", c.New.Pub, "--option", "require-sigs", "true"}, copyPaths...)...)
	if code != 0 {
		t.Fatalf("nix copy --from the resigned cache into a fresh store exited %d:\n%s", code, stderr)
	}
	out, _, _ := nixcache.Run(t, "nix", "--extra-experimental-features", "nix-command", "path-info", "--store", root, c.All[0])
	if strings.TrimSpace(out) != c.All[0] {
		t.Fatalf("path-info in the fresh store: %q", out)
	}
	// And the same copy from the cache before resign is refused.
	if !t.Failed() {
		for _, p := range c.OldOnly[:1] {
			os.WriteFile(nixcache.NarinfoFile(c.Dir, p), before[p], 0o644)
			root2 := filepath.Join(t.TempDir(), "root2")
			_, _, code := nixcache.Run(t, "nix", "--extra-experimental-features", "nix-command",
				"copy", "--from", "file://"+c.Dir, "--store", root2,
				"--option", "trusted-public-keys", c.New.Pub, "--option", "require-sigs", "true", p)
			if code == 0 {
				t.Fatalf("nix copy of %s signed only by the old key succeeded with only the new key trusted", p)
			}
		}
	}
}
