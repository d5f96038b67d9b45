package nixconf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/nixtest"
)

func TestParseShowConfig(t *testing.T) {
	text := "allowed-users = *\nbuilders = \nsubstituters = https://cache.nixos.org/ https://a.example\r\ntrusted-public-keys = a:1 b:2\nwarn-dirty = true\n"
	js := `{"substituters":{"aliases":["binary-caches"],"defaultValue":[],"value":["https://cache.nixos.org/","https://a.example"]},
	        "trusted-public-keys":{"value":["a:1","b:2"]},"max-jobs":{"value":4}}`
	for _, in := range []string{text, "warning: unknown setting 'x'\n" + text, "  \n" + js} {
		c, err := ParseShowConfig([]byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		keys, _ := c.List("trusted-public-keys")
		subs, _ := c.List("substituters")
		if !slices.Equal(keys, []string{"a:1", "b:2"}) || !slices.Equal(subs, []string{"https://cache.nixos.org/", "https://a.example"}) {
			t.Errorf("%s: keys %q subs %q", c.Format, keys, subs)
		}
	}
	c, err := ParseShowConfig([]byte("trusted-public-keys =\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.List("trusted-public-keys"); !ok || len(v) != 0 {
		t.Errorf("empty value: %q %v", v, ok)
	}
	for _, bad := range []string{
		"",
		"max-jobs = 1\n",                    // no trusted-public-keys
		"trusted-public-keys = a\nhello\n",  // not a setting line
		"error: unrecognised flag '--json'", // nix failed
		`{"trusted-public-keys": {"value": 3}}`,
		`{"trusted-public-keys": `,
	} {
		if _, err := ParseShowConfig([]byte(bad)); err == nil {
			t.Errorf("%q: parsed, want an error", bad)
		}
	}
	_, err = ParseShowConfig([]byte("trusted-public-keys = a\nhello world\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2:") {
		t.Errorf("error %v should name line 2", err)
	}
}

// TestParseShowConfigRealNix reads both output forms of the installed Nix.
func TestParseShowConfigRealNix(t *testing.T) {
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) { parseShowConfigRealNix(t, n) })
}

func parseShowConfigRealNix(t *testing.T, n *nixtest.Nix) {
	dir := t.TempDir()
	conf := "trusted-public-keys = " + keyAcme1 + " " + keyOther + "\nextra-substituters = https://cache.acme.example\n"
	if err := os.WriteFile(filepath.Join(dir, "nix.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := nixShowConfig(t, n, dir)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(m)
	text := showConfigText(t, n, dir)
	for _, in := range [][]byte{js, text} {
		c, err := ParseShowConfig(in)
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := c.List("trusted-public-keys")
		subs, _ := c.List("substituters")
		if !slices.Equal(keys, []string{keyAcme1, keyOther}) || !slices.Equal(subs, []string{"https://cache.nixos.org/", "https://cache.acme.example"}) {
			n.Errorf(t, "%s: keys %q subs %q", c.Format, keys, subs)
		}
	}
}

func FuzzParseShowConfig(f *testing.F) {
	f.Add([]byte("builders = \ntrusted-public-keys = a:1 b:2\n"))
	f.Add([]byte(`{"trusted-public-keys":{"value":["a:1"]},"substituters":{"value":"x y"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseShowConfig(data)
		if err != nil {
			return
		}
		keys, ok := c.List("trusted-public-keys")
		if !ok || keys == nil {
			t.Fatalf("parsed without trusted-public-keys: %q", data)
		}
		for _, k := range keys {
			if k == "" || strings.ContainsAny(k, " \t\r\n") {
				t.Fatalf("word %q has a separator", k)
			}
		}
	})
}

// verify --config given a nix.conf: the reader says so, at the line that
// shows it, and how to capture the right input.
func TestParseShowConfigRefusesNixConf(t *testing.T) {
	for in, line := range map[string]int{
		"# /etc/nix/nix.conf\ntrusted-public-keys = a:1\n":                                1,
		"trusted-public-keys = a:1\nextra-trusted-public-keys = b:2\n":                    2,
		"extra-substituters = https://a.example\ntrusted-public-keys = a:1\n":             1,
		"trusted-public-keys = a:1\n!include nix.custom.conf\n":                           2,
		"trusted-public-keys = a:1\ninclude /etc/nix/other.conf\n":                        2,
		"substituters = https://a.example\ntrusted-public-keys = a:1\nsubstituters = x\n": 3,
		"trusted-public-keys = a:1\nsubstituters = https://a.example\n":                   2,
		"max-jobs = 4\n  # a comment, indented\ntrusted-public-keys = a:1\n":              2,
		"build-users-group = nixbld\ntrusted-public-keys = a:1\nextra-platforms = x\n":    3,
	} {
		_, err := ParseShowConfig([]byte(in))
		var nc *NixConfError
		if !errors.As(err, &nc) || !errors.Is(err, ErrNixConf) {
			t.Errorf("%q: %v, want a NixConfError", in, err)
			continue
		}
		if nc.Line != line {
			t.Errorf("%q: line %d, want %d", in, nc.Line, line)
		}
		for _, want := range []string{fmt.Sprintf("line %d ", line), "nix.conf", "nix config show --json > FILE", "nix show-config --json"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q: %q lacks %q", in, err, want)
			}
		}
	}
	// extra-platforms is a setting of its own, which nix config show prints.
	if _, err := ParseShowConfig([]byte("extra-platforms = \ntrusted-public-keys = a:1\n")); err != nil {
		t.Errorf("extra-platforms: %v", err)
	}
}

// An error about a line of the input never shows a secret key in it (a
// secret key file passed as --config, say).
func TestParseShowConfigErrorRedacts(t *testing.T) {
	secret := "k:" + strings.Repeat("AbCd", 22)
	for _, in := range []string{secret + "\n", `{"trusted-public-keys": {"value": {"k": "` + secret + `"}}}`} {
		_, err := ParseShowConfig([]byte(in))
		if err == nil || strings.Contains(err.Error(), "AbCdAbCdAbCdAbCd") {
			t.Errorf("%q: %v", in, err)
		}
	}
}
