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
	return n.EvalModuleList(t, [][]byte{content})[0]
}

// EvalModuleList is EvalModule for many modules with two Nix runs in all.
func (n *Nix) EvalModuleList(t testing.TB, contents [][]byte) []any {
	t.Helper()
	dir := t.TempDir()
	var files []string
	var calls strings.Builder
	calls.WriteString("[\n")
	for i, c := range contents {
		name := fmt.Sprintf("module%d.nix", i)
		if err := os.WriteFile(filepath.Join(dir, name), c, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
		fmt.Fprintf(&calls, "(import ./%s args)\n", name)
	}
	calls.WriteString("]")
	n.run(t, dir, nil, "nix-instantiate", append([]string{"--parse"}, files...)...)
	expr := "let args = " + moduleArgs + "; in " + calls.String()
	out := n.run(t, dir, nil, "nix-instantiate", "--eval", "--strict", "--json", "-E", expr)
	var v []any
	if err := json.Unmarshal(out, &v); err != nil || len(v) != len(contents) {
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

// CheckTarget runs Nix.CheckTargets for one module on every available Nix
// version, as subtests named after the version when t is a *testing.T.
func CheckTarget(t testing.TB, target *policy.Target, content []byte) {
	t.Helper()
	CheckTargets(t, []TargetModule{{Target: target, Content: content}})
}

// CheckTargets runs Nix.CheckTargets on every available Nix version, as
// subtests named after the version when t is a *testing.T.
func CheckTargets(t testing.TB, files []TargetModule) {
	t.Helper()
	each(t, func(t testing.TB, n *Nix) { n.CheckTargets(t, files) })
}

// CheckTargets proves with real Nix that each file, rendered for its
// target, makes a machine trust exactly the target's keys and
// substituters: modules are parsed and evaluated with stub arguments (the
// real module systems are CheckModsys's job), all in two Nix runs; nix.conf
// snippets are loaded by "nix config show", one run each.
func (n *Nix) CheckTargets(t testing.TB, files []TargetModule) {
	t.Helper()
	var modules []TargetModule
	var contents [][]byte
	for _, f := range files {
		switch f.Target.Kind {
		case policy.NixOS, policy.Darwin, policy.HomeManager:
			modules = append(modules, f)
			contents = append(contents, f.Content)
		case policy.NixConf:
			n.checkNixConf(t, f.Target, f.Content)
		default:
			n.Fatalf(t, "%s: unknown kind %q", f.Target.ID(), f.Target.Kind)
		}
	}
	if len(modules) == 0 {
		return
	}
	for i, got := range n.EvalModuleList(t, contents) {
		if want := wantModuleValue(modules[i].Target); !reflect.DeepEqual(got, want) {
			n.Errorf(t, "%s: module evaluates to\n%s\nwant\n%s", modules[i].Target.ID(), dump(got), dump(want))
		}
	}
}

func strs(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// wantModuleValue is what a rendered module for target evaluates to with
// the stub arguments of moduleArgs.
func wantModuleValue(target *policy.Target) any {
	var keyList []string
	for _, k := range target.Keys {
		keyList = append(keyList, k.PublicKey)
	}
	keys, subs := strs(keyList), strs(target.Substituters)
	forced := func(v any) any {
		return map[string]any{"_type": "override", "content": v, "priority": float64(50)}
	}
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
	return want
}

// checkNixConf loads a rendered nix.conf snippet as /etc/nix/nix.conf: Nix
// must trust cache.nixos.org's key and the target's, and use the default
// substituter and the target's.
func (n *Nix) checkNixConf(t testing.TB, target *policy.Target, content []byte) {
	t.Helper()
	var keyList []string
	for _, k := range target.Keys {
		keyList = append(keyList, k.PublicKey)
	}
	conf := n.ShowConfig(t, content)
	wantKeys := append([]any{DefaultKey}, strs(keyList)...)
	if got := conf["trusted-public-keys"].Value; !reflect.DeepEqual(got, wantKeys) {
		n.Errorf(t, "%s: nix config show: trusted-public-keys = %s, want %s", target.ID(), dump(got), dump(wantKeys))
	}
	wantSubs := append([]any{DefaultSubstituter}, strs(target.Substituters)...)
	if got := conf["substituters"].Value; !reflect.DeepEqual(got, wantSubs) {
		n.Errorf(t, "%s: nix config show: substituters = %s, want %s", target.ID(), dump(got), dump(wantSubs))
	}
}

func dump(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}
