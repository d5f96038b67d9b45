package nixconf

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// requireNix skips a test without nix, or fails it under
// KEYFORM_REQUIRE_NIX=1 (CI), where a skip would hide a broken check.
func requireNix(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("nix"); err != nil {
		if os.Getenv("KEYFORM_REQUIRE_NIX") == "1" {
			t.Fatal("KEYFORM_REQUIRE_NIX=1 but nix is not on PATH")
		}
		t.Skip("nix is not on PATH")
	}
}

// nixShowConfig runs "nix show-config --json" with dir as NIX_CONF_DIR and
// nothing else: no user config files, no NIX_CONFIG.
func nixShowConfig(t *testing.T, dir string) (map[string]json.RawMessage, string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command("nix", "--extra-experimental-features", "nix-command", "show-config", "--json")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CONFIG_DIRS=" + filepath.Join(home, "xdg"),
		// A file that does not exist: Nix skips it, so no user
		// configuration is read.
		"NIX_USER_CONF_FILES=" + filepath.Join(home, "none.conf"),
		"NIX_CONF_DIR=" + dir,
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, stderr.String(), err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("nix show-config --json: %v\n%s", err, out)
	}
	return m, stderr.String(), nil
}

func nixList(t *testing.T, m map[string]json.RawMessage, name string) []string {
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
	requireNix(t)
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
				m, stderr, err := nixShowConfig(t, dir)
				if fail {
					if err == nil {
						t.Fatalf("nix accepted the configuration keyform rejects (%v)", perr)
					}
					var se *SyntaxError
					var ie *IncludeError
					switch {
					case errors.As(perr, &se):
						if !strings.Contains(stderr, "configuration line '"+se.Text+"'") {
							t.Errorf("nix: %s\nkeyform: %v", stderr, perr)
						}
					case errors.As(perr, &ie):
						if !strings.Contains(stderr, "included from") {
							t.Errorf("nix: %s\nkeyform: %v", stderr, perr)
						}
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: nix show-config: %v\n%s", stage, err, stderr)
				}
				eff, err := c.effective(override)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := nixList(t, m, "trusted-public-keys"), eff.Keys(); !slices.Equal(got, want) {
					t.Errorf("%s: trusted-public-keys:\nnix:     %q\nkeyform: %q", stage, got, want)
				}
				if got, want := nixList(t, m, "substituters"), eff.SubstituterURLs(); !slices.Equal(got, want) {
					t.Errorf("%s: substituters:\nnix:     %q\nkeyform: %q", stage, got, want)
				}
			}
		})
	}
}

// showConfigText runs "nix show-config" (text form) with dir as
// NIX_CONF_DIR, isolated like nixShowConfig.
func showConfigText(t *testing.T, dir string) []byte {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command("nix", "--extra-experimental-features", "nix-command", "show-config")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CONFIG_DIRS=" + filepath.Join(home, "xdg"),
		"NIX_USER_CONF_FILES=" + filepath.Join(home, "none.conf"),
		"NIX_CONF_DIR=" + dir,
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nix show-config: %v", err)
	}
	return out
}
