package publisher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfiguredKey: publisher setup reads the setting flox config --set
// wrote, to run flox only when it differs.
func TestConfiguredKey(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HOME": "/home/u"}
	getenv := func(k string) string { return env[k] }
	if got := UserConfigFile(getenv); got != "/home/u/.config/flox/flox.toml" {
		t.Errorf("UserConfigFile = %s", got)
	}
	env["XDG_CONFIG_HOME"] = "/xdg"
	if got := UserConfigFile(getenv); got != "/xdg/flox/flox.toml" {
		t.Errorf("UserConfigFile with XDG_CONFIG_HOME = %s", got)
	}
	env["FLOX_CONFIG_DIR"] = dir
	path := UserConfigFile(getenv)
	if path != filepath.Join(dir, "flox.toml") {
		t.Errorf("UserConfigFile with FLOX_CONFIG_DIR = %s", path)
	}
	if got, err := ConfiguredKey(path); got != "" || err != nil {
		t.Errorf("no file: %q, %v", got, err)
	}
	for _, c := range []struct{ toml, want, err string }{
		{"disable_metrics = true\n", "", ""},
		{"[publish]\nsigning_private_key = \"/home/u/k.key\"\n", "/home/u/k.key", ""},
		{"publish.signing_private_key = '/a b/k.key'\n", "/a b/k.key", ""},
		{"[nix]\naccess_tokens = { \"github.com\" = \"ghp_SECRETSECRET\" \n", "", ":2 does not parse as TOML"},
		{"[publish]\nsigning_private_key = 3\n", "", "does not hold Flox settings"},
	} {
		if err := os.WriteFile(path, []byte(c.toml), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ConfiguredKey(path)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("%q: error %v, want one with %q and no file content", c.toml, err, c.err)
			}
			continue
		}
		if got != c.want || err != nil {
			t.Errorf("%q: %q, %v; want %q", c.toml, got, err, c.want)
		}
	}
}
