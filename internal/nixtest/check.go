package nixtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/keyform/keyform/policy"
)

// DefaultKey is the key Nix trusts when nothing says otherwise.
const DefaultKey = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="

// DefaultSubstituter is Nix's default substituter.
const DefaultSubstituter = "https://cache.nixos.org/"

// EvalStrings has every available Nix version read a list of Nix string
// literals, fails when versions disagree, and returns what they read.
func EvalStrings(t testing.TB, literals []string) []string {
	t.Helper()
	var first []string
	var firstNix *Nix
	for _, n := range Versions(t) {
		got := n.EvalStrings(t, literals)
		if firstNix == nil {
			first, firstNix = got, n
		} else if !reflect.DeepEqual(got, first) {
			t.Fatalf("%s and %s read the same string literals differently:\n%s: %q\n%s: %q", firstNix, n, firstNix, first, n, got)
		}
	}
	return first
}

// EvalStrings evaluates a list of Nix string literals with nix-instantiate
// and returns the strings Nix read.
func (n *Nix) EvalStrings(t testing.TB, literals []string) []string {
	t.Helper()
	dir := t.TempDir()
	expr := "[\n" + strings.Join(literals, "\n") + "\n]\n"
	file := filepath.Join(dir, "strings.nix")
	if err := os.WriteFile(file, []byte(expr), 0o644); err != nil {
		t.Fatal(err)
	}
	out := n.run(t, dir, nil, "nix-instantiate", "--eval", "--strict", "--json", file)
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		n.Fatalf(t, "nix-instantiate output %q: %v", out, err)
	}
	return got
}

// moduleArgs are the stub module arguments EvalModule calls a rendered
// module with: lib.mkForce and lib.mkDefault as nixpkgs defines them, so
// the value shows what is forced or defaulted, and pkgs.nix as a marker.
const moduleArgs = `{
  lib = {
    mkForce = x: { _type = "override"; content = x; priority = 50; };
    mkDefault = x: { _type = "override"; content = x; priority = 1000; };
  };
  pkgs = { nix = "<pkgs.nix>"; };
  config = { };
  options = { };
}`

// EvalModule parses a rendered module with nix-instantiate --parse, calls it
// with stub module arguments and returns its value as JSON-decoded data.
// Modsys (modsys.go) evaluates modules with the real module systems.
func (n *Nix) EvalModule(t testing.TB, content []byte) any {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "module.nix")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	n.run(t, dir, nil, "nix-instantiate", "--parse", file)
	out := n.run(t, dir, nil, "nix-instantiate", "--eval", "--strict", "--json", "-E", "import ./module.nix "+moduleArgs)
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		n.Fatalf(t, "nix-instantiate output %q: %v", out, err)
	}
	return v
}

// Setting is one entry of "nix config show --json".
type Setting struct {
	Value        any `json:"value"`
	DefaultValue any `json:"defaultValue"`
}

// ShowConfig places conf as nix.conf in a fresh NIX_CONF_DIR and returns
// what "nix config show --json" ("nix show-config --json" before 2.20)
// reports.
func (n *Nix) ShowConfig(t testing.TB, conf []byte) map[string]Setting {
	t.Helper()
	return n.ShowConfigFiles(t, conf, nil)
}

// ShowConfigFiles is ShowConfig with a user nix.conf as well (nil for
// none), read through NIX_USER_CONF_FILES after the system one, as Nix
// reads ~/.config/nix/nix.conf.
func (n *Nix) ShowConfigFiles(t testing.TB, system, user []byte) map[string]Setting {
	t.Helper()
	dir := t.TempDir()
	confDir := filepath.Join(dir, "etc-nix")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, "nix.conf"), system, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"NIX_CONF_DIR=" + confDir}
	if user != nil {
		userConf := filepath.Join(dir, "user-nix.conf")
		if err := os.WriteFile(userConf, user, 0o644); err != nil {
			t.Fatal(err)
		}
		env = append(env, "NIX_USER_CONF_FILES="+userConf)
	}
	out := n.run(t, dir, env, "nix", n.ShowConfigArgs()...)
	var m map[string]Setting
	if err := json.Unmarshal(out, &m); err != nil {
		n.Fatalf(t, "nix %s output: %v", strings.Join(n.ShowConfigArgs(), " "), err)
	}
	return m
}

// CheckTarget runs Nix.CheckTarget on every available Nix version, as
// subtests named after the version when t is a *testing.T.
func CheckTarget(t testing.TB, target *policy.Target, content []byte) {
	t.Helper()
	each(t, func(t testing.TB, n *Nix) { n.CheckTarget(t, target, content) })
}

// CheckTarget proves with real Nix that content, rendered for target, makes
// a machine trust exactly the target's keys and substituters: modules are
// parsed and evaluated with stub arguments (the real module systems are
// Modsys's job), nix.conf snippets loaded by "nix config show".
func (n *Nix) CheckTarget(t testing.TB, target *policy.Target, content []byte) {
	t.Helper()
	keys := make([]any, len(target.Keys))
	for i, k := range target.Keys {
		keys[i] = k.PublicKey
	}
	subs := make([]any, len(target.Substituters))
	for i, s := range target.Substituters {
		subs[i] = s
	}
	forced := func(v any) any {
		return map[string]any{"_type": "override", "content": v, "priority": float64(50)}
	}
	switch target.Kind {
	case policy.NixOS, policy.Darwin, policy.HomeManager:
		settings := map[string]any{}
		want := map[string]any{"nix": map[string]any{"settings": settings}}
		keyAttr, subAttr := "trusted-public-keys", "substituters"
		switch {
		case target.Kind == policy.HomeManager:
			keyAttr, subAttr = "extra-"+keyAttr, "extra-"+subAttr
			// Standalone home-manager writes no nix.conf without it.
			want["nix"].(map[string]any)["package"] = map[string]any{"_type": "override", "content": "<pkgs.nix>", "priority": float64(1000)}
			settings[keyAttr] = keys
		case target.Exclusive:
			settings[keyAttr] = forced(keys)
			settings["extra-trusted-public-keys"] = forced([]any{})
		default:
			settings[keyAttr] = keys
		}
		if len(subs) > 0 {
			settings[subAttr] = subs
		}
		if got := n.EvalModule(t, content); !reflect.DeepEqual(got, want) {
			n.Errorf(t, "%s: module evaluates to\n%s\nwant\n%s", target.ID(), dump(got), dump(want))
		}
	case policy.NixConf:
		conf := n.ShowConfig(t, content)
		wantKeys := append([]any{DefaultKey}, keys...)
		if got := conf["trusted-public-keys"].Value; !reflect.DeepEqual(got, wantKeys) {
			n.Errorf(t, "%s: nix config show: trusted-public-keys = %s, want %s", target.ID(), dump(got), dump(wantKeys))
		}
		wantSubs := append([]any{DefaultSubstituter}, subs...)
		if got := conf["substituters"].Value; !reflect.DeepEqual(got, wantSubs) {
			n.Errorf(t, "%s: nix config show: substituters = %s, want %s", target.ID(), dump(got), dump(wantSubs))
		}
	default:
		n.Fatalf(t, "%s: unknown kind %q", target.ID(), target.Kind)
	}
}

func dump(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}
