package nixconf

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/nixtest"
)

// nixShowConfig runs n's "nix config show --json" ("nix show-config
// --json" before 2.20) with dir as NIX_CONF_DIR and nothing else: no user
// config files, no NIX_CONFIG.
func nixShowConfig(t testing.TB, n *nixtest.Nix, dir string) (map[string]json.RawMessage, string, error) {
	t.Helper()
	out, stderr, err := runShowConfig(t, n, dir, n.ShowConfigArgs())
	if err != nil {
		return nil, stderr, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		n.Fatalf(t, "nix %s: %v\n%s", strings.Join(n.ShowConfigArgs(), " "), err, out)
	}
	return m, stderr, nil
}

// runShowConfig runs nix with args, isolated from this machine's and this
// user's configuration (nixtest.IsolatedEnv), with dir as NIX_CONF_DIR.
func runShowConfig(t testing.TB, n *nixtest.Nix, dir string, args []string) ([]byte, string, error) {
	t.Helper()
	cmd := n.Command("nix", args...)
	cmd.Env = append(cmd.Env, nixtest.IsolatedEnv(t.TempDir())...)
	cmd.Env = append(cmd.Env, "NIX_CONF_DIR="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	return out, stderr.String(), err
}

func nixList(t testing.TB, m map[string]json.RawMessage, name string) []string {
	t.Helper()
	var s struct {
		Value []string `json:"value"`
	}
	if err := json.Unmarshal(m[name], &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s.Value
}

// TestCorpusRealNix checks the corpus against Nix itself: for each file,
// the original and the patched version go into a temporary NIX_CONF_DIR,
// and "nix show-config" must report the trusted-public-keys and
// substituters that Evaluate computed, in the same order. For fail_
// vectors Nix must refuse the configuration too.
func TestCorpusRealNix(t *testing.T) {
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) { corpusRealNix(t, n) })
}

func corpusRealNix(t *testing.T, n *nixtest.Nix) {
	for _, c := range loadCorpus(t) {
		if c.nonix || c.nixRejects != nil {
			// Files some Nix rejects for a value: TestCorpusNixCheck
			// runs them with each Nix version.
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			_, out, _, perr := c.run()
			fail := strings.HasPrefix(c.name, "fail_")
			for _, stage := range []string{"before", "after"} {
				if stage == "after" && fail {
					break
				}
				dir := t.TempDir()
				for name, data := range c.files {
					if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				var override []byte
				if stage == "after" {
					override = out
					if err := os.WriteFile(filepath.Join(dir, c.patch), out, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				m, stderr, err := nixShowConfig(t, n, dir)
				if fail {
					if err == nil {
						n.Fatalf(t, "nix accepted the configuration keyform rejects (%v)", perr)
					}
					var se *SyntaxError
					var ie *IncludeError
					switch {
					case errors.As(perr, &se):
						if !strings.Contains(stderr, "configuration line '"+se.Text+"'") {
							n.Errorf(t, "nix: %s\nkeyform: %v", stderr, perr)
						}
					case errors.As(perr, &ie):
						if !strings.Contains(stderr, "included from") {
							n.Errorf(t, "nix: %s\nkeyform: %v", stderr, perr)
						}
					}
					return
				}
				if err != nil {
					n.Fatalf(t, "%s: nix %s: %v\n%s", stage, strings.Join(n.ShowConfigArgs(), " "), err, stderr)
				}
				eff, err := c.effective(override)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := nixList(t, m, "trusted-public-keys"), eff.Keys(); !slices.Equal(got, want) {
					n.Errorf(t, "%s: trusted-public-keys:\nnix:     %q\nkeyform: %q", stage, got, want)
				}
				if got, want := nixList(t, m, "substituters"), eff.SubstituterURLs(); !slices.Equal(got, want) {
					n.Errorf(t, "%s: substituters:\nnix:     %q\nkeyform: %q", stage, got, want)
				}
			}
		})
	}
}

// showConfigText runs n's "nix config show" (text form; "nix show-config"
// before 2.20) with dir as NIX_CONF_DIR, isolated like nixShowConfig.
func showConfigText(t testing.TB, n *nixtest.Nix, dir string) []byte {
	t.Helper()
	args := slices.DeleteFunc(slices.Clone(n.ShowConfigArgs()), func(a string) bool { return a == "--json" })
	out, stderr, err := runShowConfig(t, n, dir, args)
	if err != nil {
		n.Fatalf(t, "nix %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}
