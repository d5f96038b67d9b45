// Package nixtest checks keyform's output with real Nix in tests: rendered
// modules must parse and evaluate to the policy's keys, rendered nix.conf
// snippets must make "nix show-config" trust them. Tests skip when nix is
// missing, unless KEYFORM_REQUIRE_NIX=1 (CI), where that is a failure.
package nixtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
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

// Require skips the test when nix is not installed, or fails it under
// KEYFORM_REQUIRE_NIX=1.
func Require(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"nix", "nix-instantiate"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("KEYFORM_REQUIRE_NIX") == "1" {
				t.Fatalf("KEYFORM_REQUIRE_NIX=1 but %s is not on PATH", bin)
			}
			t.Skipf("%s is not installed", bin)
		}
	}
}

// run runs a Nix command in dir with a clean, isolated configuration: no
// system or user nix.conf, HOME and caches inside dir.
func run(t testing.TB, dir string, extraEnv []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	empty := filepath.Join(dir, ".nixtest-empty-conf")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(),
		"HOME="+dir,
		"XDG_CACHE_HOME="+filepath.Join(dir, ".cache"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, ".config"),
		"XDG_CONFIG_DIRS="+empty,
		"NIX_USER_CONF_FILES="+filepath.Join(empty, "none.conf"),
		"NIX_CONF_DIR="+empty,
		"NIX_CONFIG=",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Fatalf("%s %s printed on stderr:\n%s", name, strings.Join(args, " "), s)
	}
	// Nix 2.8 to 2.10 print no newline after --json output.
	return bytes.TrimSpace(stdout.Bytes())
}

// EvalStrings evaluates a list of Nix string literals with nix-instantiate
// and returns the strings Nix read.
func EvalStrings(t testing.TB, literals []string) []string {
	t.Helper()
	dir := t.TempDir()
	expr := "[\n" + strings.Join(literals, "\n") + "\n]\n"
	file := filepath.Join(dir, "strings.nix")
	if err := os.WriteFile(file, []byte(expr), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, dir, nil, "nix-instantiate", "--eval", "--strict", "--json", file)
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("nix-instantiate output %q: %v", out, err)
	}
	return got
}

// mkForceStub is lib.mkForce as nixpkgs defines it, so evaluating a module
// shows whether a value is forced.
const mkForceStub = `x: { _type = "override"; content = x; priority = 50; }`

// EvalModule parses a rendered module with nix-instantiate --parse, calls it
// with stub module arguments and returns its value as JSON-decoded data.
func EvalModule(t testing.TB, content []byte) any {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "module.nix")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, nil, "nix-instantiate", "--parse", file)
	expr := fmt.Sprintf(`import ./module.nix { lib = { mkForce = %s; }; config = { }; pkgs = { }; options = { }; }`, mkForceStub)
	out := run(t, dir, nil, "nix-instantiate", "--eval", "--strict", "--json", "-E", expr)
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("nix-instantiate output %q: %v", out, err)
	}
	return v
}

// Setting is one entry of "nix show-config --json".
type Setting struct {
	Value        any `json:"value"`
	DefaultValue any `json:"defaultValue"`
}

// ShowConfig places conf as nix.conf in a fresh NIX_CONF_DIR and returns
// what "nix show-config --json" reports.
func ShowConfig(t testing.TB, conf []byte) map[string]Setting {
	t.Helper()
	dir := t.TempDir()
	confDir := filepath.Join(dir, "etc-nix")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(confDir, "nix.conf"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, dir, []string{"NIX_CONF_DIR=" + confDir},
		"nix", "--extra-experimental-features", "nix-command", "show-config", "--json")
	var m map[string]Setting
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("nix show-config output: %v", err)
	}
	return m
}

// CheckTarget proves with real Nix that content, rendered for t, makes a
// machine trust exactly t's keys and substituters: modules are parsed and
// evaluated, nix.conf snippets loaded by nix show-config.
func CheckTarget(t testing.TB, target *policy.Target, content []byte) {
	t.Helper()
	keys := make([]any, len(target.Keys))
	for i, k := range target.Keys {
		keys[i] = k.PublicKey
	}
	subs := make([]any, len(target.Substituters))
	for i, s := range target.Substituters {
		subs[i] = s
	}
	switch target.Kind {
	case policy.NixOS, policy.Darwin, policy.HomeManager:
		keyAttr, subAttr := "trusted-public-keys", "substituters"
		if target.Kind == policy.HomeManager {
			keyAttr, subAttr = "extra-"+keyAttr, "extra-"+subAttr
		}
		var keyVal any = keys
		if target.Exclusive {
			keyVal = map[string]any{"_type": "override", "content": keys, "priority": float64(50)}
		}
		settings := map[string]any{keyAttr: keyVal}
		if len(subs) > 0 {
			settings[subAttr] = subs
		}
		want := map[string]any{"nix": map[string]any{"settings": settings}}
		if got := EvalModule(t, content); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: module evaluates to\n%s\nwant\n%s", target.ID(), dump(got), dump(want))
		}
	case policy.NixConf:
		conf := ShowConfig(t, content)
		wantKeys := append([]any{DefaultKey}, keys...)
		if got := conf["trusted-public-keys"].Value; !reflect.DeepEqual(got, wantKeys) {
			t.Errorf("%s: nix show-config trusted-public-keys = %s, want %s", target.ID(), dump(got), dump(wantKeys))
		}
		wantSubs := append([]any{DefaultSubstituter}, subs...)
		if got := conf["substituters"].Value; !reflect.DeepEqual(got, wantSubs) {
			t.Errorf("%s: nix show-config substituters = %s, want %s", target.ID(), dump(got), dump(wantSubs))
		}
	default:
		t.Fatalf("%s: unknown kind %q", target.ID(), target.Kind)
	}
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
