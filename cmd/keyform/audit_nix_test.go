package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/nixcache"
)

// A rotation through the CLI against real Nix (internal/nixcache: paths
// built with nix-build, signed with nix store sign, nix copy'd to a
// file:// cache; skipped without Nix unless KEYFORM_REQUIRE_NIX=1):
// keyform audit's counts agree path by path with nix store verify,
// retire is refused while paths rely on the old key alone, keyform resign
// makes nix store verify trusting only the new key pass, and then the
// retire goes through.
func TestRotationRealNix(t *testing.T) {
	c := nixcache.NewCache(t)
	dir := t.TempDir()
	policyText := fmt.Sprintf(`catalog "acme" {
  substituter = "file://%s"
}

key "acme_old" {
  name             = %q
  catalog          = catalog.acme
  public_key       = %q
  private_key_path = %q
}

key "acme_new" {
  name             = %q
  catalog          = catalog.acme
  public_key       = %q
  private_key_path = %q
}

target "nixos" "farm" {
  trust = [catalog.acme]
}
`, c.Dir, c.Old.SK.Name, c.Old.Pub, c.Old.File, c.New.SK.Name, c.New.Pub, c.New.File)
	if err := os.WriteFile(filepath.Join(dir, "keyform.hcl"), []byte(policyText), 0o644); err != nil {
		t.Fatal(err)
	}
	auditJSON := func(args ...string) *audit.Report {
		t.Helper()
		code, stdout, stderr := runIn(t, dir, append([]string{"audit", "--format", "json", "--examples", "1000"}, args...)...)
		var doc audit.Document
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil || len(doc.Catalogs) != 1 {
			t.Fatalf("keyform audit %v: exit %d, %v\n%s%s", args, code, err, stdout, stderr)
		}
		if r := doc.Catalogs[0]; code != audit.ExitCode([]*audit.Report{r}) {
			t.Fatalf("keyform audit exit %d for %+v", code, r)
		}
		return doc.Catalogs[0]
	}

	// Both keys active: nix, trusting both, calls untrusted exactly the
	// paths keyform finds retired-only or unsigned; trusting only the new
	// key, it adds the paths keyform says retiring the old key strands.
	r := auditJSON()
	untrustedBoth, _ := nixcache.Untrusted(t, "", c.Dir, c.Old.Pub, c.New.Pub)
	if got := slices.Sorted(slices.Values(slices.Concat(r.Examples.RetiredOnly, r.Examples.Unsigned))); !slices.Equal(got, untrustedBoth) {
		t.Fatalf("keyform: not covered %v\nnix store verify: untrusted %v", got, untrustedBoth)
	}
	untrustedNew, _ := nixcache.Untrusted(t, "", c.Dir, c.New.Pub)
	old := r.Keys[c.Old.SK.Name]
	stranded := slices.DeleteFunc(slices.Clone(untrustedNew), func(p string) bool { return slices.Contains(untrustedBoth, p) })
	if !slices.Equal(old.Stranded, stranded) || old.WouldStrand != int64(len(stranded)) || old.WouldStrand != int64(len(c.OldOnly)) {
		t.Fatalf("keyform: retiring the old key strands %d %v\nnix store verify trusting only the new key adds %v", old.WouldStrand, old.Stranded, stranded)
	}
	if r.Paths != int64(len(c.All)) || r.Invalid != 1 || r.Examples.Invalid[0].Path != c.Corrupt {
		t.Fatalf("counts: %+v", r)
	}

	// The same cache over HTTP from nginx, looked up by a paths list.
	paths := filepath.Join(t.TempDir(), "paths.txt")
	os.WriteFile(paths, []byte(strings.Join(c.All, "\n")+"\n"), 0o644)
	remote := auditJSON("--store", nixcache.Nginx(t, c.Dir), "--paths", paths)
	if remote.Paths != r.Paths || remote.Covered != r.Covered || remote.Unsigned != r.Unsigned || remote.Keys[c.Old.SK.Name].WouldStrand != old.WouldStrand {
		t.Fatalf("over HTTP: %+v\nfile://: %+v", remote, r)
	}

	// Retiring the old key now would strand its paths: refused.
	code, _, stderr := runIn(t, dir, "retire", "acme_old")
	if code != cli.ExitInvalid || !strings.Contains(stderr, fmt.Sprintf("retiring acme_old would strand %d of %d paths", len(c.OldOnly), len(c.All))) {
		t.Fatalf("retire before resign: exit %d\n%s", code, stderr)
	}

	// keyform resign with the new key; then nix store verify trusting only
	// the new key passes, and running it again changes nothing.
	if code, stdout, stderr := runIn(t, dir, "resign", "acme_new"); code != cli.ExitOK || !strings.Contains(stdout, fmt.Sprintf("%d already signed, 0 malformed", len(c.Both)+len(c.NewOnly))) {
		t.Fatalf("keyform resign: exit %d\n%s%s", code, stdout, stderr)
	}
	if untrusted, code := nixcache.Untrusted(t, "", c.Dir, c.New.Pub); code != 0 || len(untrusted) != 0 {
		t.Fatalf("after keyform resign, nix store verify --trusted-public-keys NEW exits %d, untrusted %v", code, untrusted)
	}
	if code, stdout, _ := runIn(t, dir, "resign", "acme_new"); code != cli.ExitOK || !strings.Contains(stdout, " 0 signed") {
		t.Fatalf("second resign: exit %d\n%s", code, stdout)
	}
	if r := auditJSON(); r.Keys[c.Old.SK.Name].WouldStrand != 0 {
		t.Fatalf("after resign the old key still strands %d paths", r.Keys[c.Old.SK.Name].WouldStrand)
	}
	if code, _, stderr := runIn(t, dir, "retire", "acme_old"); code != cli.ExitOK || !strings.Contains(stderr, "key acme_old ("+c.Old.SK.Name+") retired") {
		t.Fatalf("retire after resign: exit %d\n%s", code, stderr)
	}
}
