package render_test

import (
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/nixtest"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render"
	"github.com/keyform/keyform/render/renderer"
)

// Validation rejects all of these (schema/testdata/fail_hostile_strings.txtar);
// the renderers must still cope when fed them directly.
var hostile = []string{
	`quote"; evil = true; "`,
	`${builtins.abort "interpolated"}`,
	`back\slash\`,
	"new\nline = injected",
	"carriage\rreturn",
	"*/ closes /* a comment",
	"# hash",
	"tab\there",
	"\u2028separator",
	"$${double}",
}

// hostileTarget builds a target whose every string holds s: labels, key
// names, catalogs, public keys, substituters, path.
func hostileTarget(kind policy.Kind, s string, exclusive bool, valuesToo bool) (*policy.Target, []*policy.Catalog) {
	cat := &policy.Catalog{Label: "cat" + s}
	key := &policy.Key{Label: "key" + s, Name: "name" + s, Catalog: cat.Label, State: policy.Active}
	key.PublicKey = key.Name + ":AAAA"
	sub := "https://x.example/ok"
	if !valuesToo {
		key.PublicKey = "plain.example-1:YD4aoux9KZCdnsMKced3iFsxDijjzuEsQ39hCzbWj4Q="
	} else {
		sub = "https://x.example/" + s
	}
	cat.Substituters = []string{sub}
	retired := &policy.Key{Label: "old" + s, Name: "old" + s, Catalog: cat.Label, State: policy.Retired}
	t := &policy.Target{
		Kind: kind, Label: "label" + s, Exclusive: exclusive, Path: "/etc/nix/" + s,
		Trust:        []policy.Ref{{Type: "catalog", Label: cat.Label}},
		Keys:         []*policy.Key{key},
		Retired:      []*policy.Key{retired},
		Substituters: []string{sub},
	}
	return t, []*policy.Catalog{cat}
}

const hostileSource = "infra\n}; evil = true; # */"

// TestHostileModules: modules stay valid Nix whose values are the literal
// hostile text, and no policy text adds a line.
func TestHostileModules(t *testing.T) {
	nixtest.Require(t)
	var modules []nixtest.TargetModule
	for _, kind := range []policy.Kind{policy.NixOS, policy.Darwin, policy.HomeManager} {
		for _, exclusive := range []bool{false, true} {
			if exclusive && kind == policy.HomeManager {
				continue
			}
			plainT, plainC := hostileTarget(kind, "plain", exclusive, true)
			plain, err := render.Target(renderer.Input{Target: plainT, Source: "infra", Catalogs: plainC})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range hostile {
				target, cats := hostileTarget(kind, s, exclusive, true)
				out, err := render.Target(renderer.Input{Target: target, Source: hostileSource, Catalogs: cats})
				if err != nil {
					t.Fatalf("%s %q: %v", kind, s, err)
				}
				if got, want := strings.Count(string(out), "\n"), strings.Count(string(plain), "\n"); got != want {
					t.Errorf("%s %q: %d lines, want %d (policy text broke a line):\n%s", kind, s, got, want, out)
				}
				for i, line := range strings.Split(string(out), "\n") {
					if strings.HasPrefix(line, "{") {
						break
					}
					if !strings.HasPrefix(line, "#") {
						t.Errorf("%s %q: header line %d is not a comment: %q", kind, s, i+1, line)
					}
				}
				modules = append(modules, nixtest.TargetModule{Target: target, Content: out})
			}
		}
	}
	nixtest.CheckTargets(t, modules)
}

// TestHostileNixConf: nix.conf cannot quote, so values it cannot hold are
// refused; hostile text in comments (labels, catalogs, path, source) stays
// inside its comment line.
func TestHostileNixConf(t *testing.T) {
	nixtest.Require(t)
	for _, s := range hostile {
		target, cats := hostileTarget(policy.NixConf, s, false, false)
		out, err := render.Target(renderer.Input{Target: target, Source: hostileSource, Catalogs: cats})
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		settings := 0
		for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			switch {
			case strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, "extra-trusted-public-keys = "), strings.HasPrefix(line, "extra-substituters = "):
				settings++
			default:
				t.Errorf("%q: line is neither a comment nor a setting: %q", s, line)
			}
		}
		if settings != 2 {
			t.Errorf("%q: %d setting lines, want 2:\n%s", s, settings, out)
		}
		nixtest.CheckTarget(t, target, out)

		// Values with whitespace, "#" or control characters are refused.
		target, cats = hostileTarget(policy.NixConf, s, false, true)
		if strings.ContainsAny(s, " \t\n\r#\u2028") {
			if out, err := render.Target(renderer.Input{Target: target, Catalogs: cats}); err == nil {
				t.Errorf("%q: nixconf rendered a value nix.conf cannot hold:\n%s", s, out)
			} else if !strings.Contains(err.Error(), "cannot be written to nix.conf") {
				t.Errorf("%q: error %q", s, err)
			}
		}
	}
}

func TestNulRefused(t *testing.T) {
	for _, kind := range []policy.Kind{policy.NixOS, policy.HomeManager} {
		target, cats := hostileTarget(kind, "nul\x00", false, true)
		if _, err := render.Target(renderer.Input{Target: target, Catalogs: cats}); err == nil || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("%s: got %v, want an error about the NUL byte", kind, err)
		}
	}
}
