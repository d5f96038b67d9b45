package nixtest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"2.8.0", "2.8", 0},
		{"2.26.3", "2.20", 1},
		{"2.8.0", "2.18", -1},
		{"2.9", "2.10", -1}, // numeric, not lexical
		{"2.20pre", "2.20", 0},
		{"2.18.1", "2.18", 1},
		{"3.0", "2.99.9", 1},
	} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestDiscover(t *testing.T) {
	versions := map[string]string{"/a": "2.26.3", "/b": "2.8.0", "/c": "2.8.0"}
	version := func(dir string) (string, error) {
		if v, ok := versions[dir]; ok {
			return v, nil
		}
		return "", errors.New("no such file")
	}
	noPath := func(string) (string, error) { return "", errors.New("not found") }

	got, err := discover("/a:/b::/c", noPath, version)
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first, one entry per version.
	if len(got) != 2 || got[0].Version != "2.8.0" || got[0].Dir != "/b" || got[1].Version != "2.26.3" {
		t.Fatalf("discover = %v", got)
	}
	if _, err := discover("/a:/missing", noPath, version); err == nil || !strings.Contains(err.Error(), "/missing/nix") {
		t.Fatalf("a listed directory without nix: err = %v", err)
	}
	// Without KEYFORM_NIX_BINS: the nix on PATH, or nothing.
	if got, err := discover("", func(string) (string, error) { return "/b/nix", nil }, version); err != nil || len(got) != 1 || got[0].Dir != "/b" {
		t.Fatalf("discover from PATH = %v, %v", got, err)
	}
	if got, err := discover("", noPath, version); err != nil || len(got) != 0 {
		t.Fatalf("discover with no nix = %v, %v", got, err)
	}
}

func TestJudge(t *testing.T) {
	both := []*Nix{{Version: "2.8.0", Dir: "/b"}, {Version: "2.26.3", Dir: "/a"}}
	old := both[:1]
	for _, c := range []struct {
		name              string
		all               []*Nix
		require, versions string
		fail, skip        bool
	}{
		{"both required and there", both, "1", "2.8,2.26", false, false},
		{"full version required", both, "1", "2.26.3", false, false},
		{"2.26 missing", old, "1", "2.8,2.26", true, false},
		{"2.2 is not 2.26", []*Nix{{Version: "2.26.3"}}, "", "2.2", true, false},
		{"versions required without KEYFORM_REQUIRE_NIX", nil, "", "2.8", true, false},
		{"no nix, required", nil, "1", "", true, false},
		{"no nix, not required", nil, "", "", false, true},
		{"some nix, nothing required", old, "", "", false, false},
	} {
		fail, skip := judge(c.all, c.require, c.versions)
		if (fail != "") != c.fail || (skip != "") != c.skip {
			t.Errorf("%s: judge = fail %q, skip %q", c.name, fail, skip)
		}
	}
	fail, _ := judge(old, "1", "2.8, 2.26")
	for _, want := range []string{"Nix 2.26 is missing", "2.8.0 (/b)", ".ci/setup-nix"} {
		if !strings.Contains(fail, want) {
			t.Errorf("failure %q does not say %q", fail, want)
		}
	}
}

// TestPins: PINS is well formed, and every file eval.nix loads is pinned.
func TestPins(t *testing.T) {
	pins, err := readPins()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, p := range pins {
		have[p.set+"/"+p.path] = true
		if len(p.commit) != 40 || strings.Count(p.repo, "/") != 1 {
			t.Errorf("pin %+v: want a 40-hex commit and OWNER/NAME", p)
		}
	}
	for _, f := range []string{
		"lib-24.05/lib/default.nix", "lib-24.05/lib/modules.nix", "lib-current/lib/default.nix",
		"lib-current/lib/modules.nix", "lib-current/COPYING",
		"nixos/nixos/modules/config/nix.nix",
		"home-manager/modules/misc/nix/default.nix", "home-manager/modules/misc/nix/remote-build.nix", "home-manager/LICENSE",
		"nix-darwin/modules/nix/default.nix", "nix-darwin/LICENSE",
	} {
		if !have[f] {
			t.Errorf("PINS has no %s", f)
		}
	}
	eval, err := os.ReadFile(filepath.Join(modsysDir(), "eval.nix"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"/lib-24.05/lib", "/lib-current/lib", "/nixos/nixos/modules/config/nix.nix", "/nix-darwin/modules/nix/default.nix", "/home-manager/modules/misc/nix/default.nix"} {
		if !strings.Contains(string(eval), `src + "`+f+`"`) {
			t.Errorf("eval.nix does not load %s; keep it and PINS in step", f)
		}
	}
}

// MajorMinor names the version the corpus's nixrejects lines use.
func TestMajorMinor(t *testing.T) {
	for v, want := range map[string]string{"2.26.3": "2.26", "2.8.0": "2.8", "2.30": "2.30", "3": "3"} {
		if got := (&Nix{Version: v}).MajorMinor(); got != want {
			t.Errorf("MajorMinor(%q) = %q, want %q", v, got, want)
		}
	}
}
