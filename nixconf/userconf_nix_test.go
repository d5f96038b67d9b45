package nixconf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/nixtest"
)

// TestCheckUserConfRealNix checks ConfSourcesOf and CheckUserConf against
// Nix itself, on each version: which user files Nix reads and in which
// order (XDG_CONFIG_HOME, XDG_CONFIG_DIRS, HOME, NIX_USER_CONF_FILES,
// NIX_CONFIG_HOME), and what NIX_CONFIG adds last. The files disagree
// (plain and extra- lines), so any other order gives other settings.
func TestCheckUserConfRealNix(t *testing.T) {
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
		dir := t.TempDir()
		files := map[string]string{
			"etc/nix.conf":                "extra-substituters = https://sys.example\nextra-trusted-public-keys = " + keyAcme1 + "\n",
			"cfg/nix/nix.conf":            "substituters = https://home.example\n",
			"home/.config/nix/nix.conf":   "extra-substituters = https://dothome.example\ntrusted-public-keys = " + keyAcme0 + "\n",
			"xdg1/nix/nix.conf":           "extra-substituters = https://xdg1.example\n",
			"xdg2/nix/nix.conf":           "trusted-public-keys = " + keyOther + "\n",
			"nixcfg/nix.conf":             "extra-trusted-public-keys = " + keyAcme2 + "\n",
			"explicit/one.conf":           "extra-substituters = https://one.example\n",
			"explicit/two.conf":           "substituters = https://two.example\n",
			"home/.config/nix/other.conf": "",
		}
		for name, data := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d := func(p string) string { return filepath.Join(dir, p) }
		for _, c := range []struct {
			name string
			env  map[string]string
			// since is the first Nix version that reads the variables
			// this case depends on.
			since string
		}{
			{"XDG", map[string]string{"HOME": d("home"), "XDG_CONFIG_HOME": d("cfg"), "XDG_CONFIG_DIRS": d("xdg1") + ":" + d("xdg2")}, ""},
			{"HOME", map[string]string{"HOME": d("home"), "XDG_CONFIG_DIRS": d("xdg2") + ":" + d("xdg1")}, ""},
			{"NIX_CONFIG", map[string]string{"HOME": d("home"), "XDG_CONFIG_DIRS": d("xdg1"), "NIX_CONFIG": "extra-substituters = https://env.example\nsubstituters = https://env2.example https://sys.example"}, ""},
			{"NIX_USER_CONF_FILES", map[string]string{"HOME": d("home"), "XDG_CONFIG_HOME": d("cfg"), "NIX_USER_CONF_FILES": d("explicit/two.conf") + ":" + d("explicit/one.conf") + ":" + d("xdg2/nix/nix.conf")}, ""},
			{"NIX_CONFIG_HOME", map[string]string{"HOME": d("home"), "NIX_CONFIG_HOME": d("nixcfg"), "XDG_CONFIG_DIRS": d("xdg1")}, "2.25"},
		} {
			env := map[string]string{"NIX_CONF_DIR": d("etc")}
			for k, v := range c.env {
				env[k] = v
			}
			u, err := CheckUserConf(ConfSourcesOf(envOf(env), d("home")), mapOS)
			if err != nil {
				t.Fatal(err)
			}
			cmd := n.Command("nix", n.ShowConfigArgs()...)
			cmd.Env = append(cmd.Env, nixtest.IsolatedEnv(d("iso"))...)
			// Unset what IsolatedEnv sets and the case does not.
			for _, k := range []string{"XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "NIX_USER_CONF_FILES", "NIX_CONFIG", "NIX_CONFIG_HOME"} {
				if _, ok := env[k]; !ok {
					cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
				}
			}
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				n.Fatalf(t, "%s: %v\n%s", c.name, err, stderr.String())
			}
			shown, err := ParseShowConfig(out)
			if err != nil {
				t.Fatal(err)
			}
			keys, _ := shown.List("trusted-public-keys")
			subs, _ := shown.List("substituters")
			same := slices.Equal(keys, u.Effective.Keys()) && slices.Equal(subs, u.Effective.SubstituterURLs())
			switch {
			case c.since == "" || n.AtLeast(c.since):
				if !same {
					n.Errorf(t, "%s: nix: keys %q subs %q\nkeyform (read %q): keys %q subs %q", c.name, keys, subs, u.Read, u.Effective.Keys(), u.Effective.SubstituterURLs())
				}
			case same:
				// keyform follows current Nix; an older one ignores the
				// variable, which this case must show.
				n.Errorf(t, "%s: this Nix was expected to ignore the case's variable, but reads what current Nix reads", c.name)
			}
		}
	})
}

// mapOS reads the disk, for tests whose files are real.
func mapOS(p string) ([]byte, error) { return os.ReadFile(p) }
