package nixconf

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/nixtest"
)

// evaluated parses and evaluates in-memory files; the first is the root.
func evaluated(t *testing.T, files map[string]string, root string) *Settings {
	t.Helper()
	read := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
	}
	f, err := Parse(root, []byte(files[root]))
	if err != nil {
		t.Fatal(err)
	}
	eff, err := Evaluate(read, f)
	if err != nil {
		t.Fatal(err)
	}
	return eff
}

// shownText renders settings the way "nix config show" prints them.
func shownText(eff *Settings) string {
	return fmt.Sprintf("substituters = %s\ntrusted-public-keys = %s\n", strings.Join(eff.SubstituterURLs(), " "), strings.Join(eff.Keys(), " "))
}

// shownJSON renders settings the way "nix config show --json" prints them.
func shownJSON(t *testing.T, eff *Settings) string {
	b, err := json.Marshal(map[string]any{
		"substituters":        map[string]any{"value": eff.SubstituterURLs()},
		"trusted-public-keys": map[string]any{"value": eff.Keys()},
		"max-jobs":            map[string]any{"value": 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parseShown(t *testing.T, s string) *Settings {
	t.Helper()
	c, err := ParseShowConfig([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c.Settings()
}

const badKey = "broken.example-1:not-base64!"

// TestCheckTrust checks every rule on one configuration, read the three ways
// apply and verify get it: evaluated from files (with an include), and
// "nix config show" output in text and JSON form. All must agree.
func TestCheckTrust(t *testing.T) {
	files := map[string]string{
		"/etc/nix/nix.conf": "substituters = https://cache.acme.example/ https://other.example\n" +
			"trusted-public-keys = " + keyAcme1Clash + " " + keyAcme2 + " " + keyAcme0 + "\n" +
			"extra-trusted-public-keys = " + keyOther + " " + badKey + " " + keyOther + "\n" +
			"!include extra.conf\n",
		"/etc/nix/extra.conf": "extra-trusted-public-keys = " + keyAcme1 + " " + keyAcme0 + "\n",
	}
	want := Want{
		Target:       "nixconf.ci",
		Keys:         []string{keyAcme1, keyAcme2, "missing.example-1:" + strings.Repeat("A", 43) + "="},
		Retired:      []string{keyAcme0, "gone.example-1:" + strings.Repeat("B", 43) + "="},
		Substituters: []string{"https://cache.acme.example", "https://nowhere.example/"},
	}
	wantKeys := []KeyCheck{
		{Key: keyAcme1, Status: TrustShadowed, By: keyAcme1Clash},
		{Key: keyAcme2, Status: TrustOK},
		{Key: want.Keys[2], Status: TrustMissing},
		{Key: keyAcme0, Retired: true, Status: TrustStillTrusted},
		{Key: want.Retired[1], Retired: true, Status: TrustOK},
	}
	wantSubs := []SubstituterCheck{{"https://cache.acme.example", true}, {"https://nowhere.example/", false}}

	eff := evaluated(t, files, "/etc/nix/nix.conf")
	for name, s := range map[string]*Settings{
		"evaluated": eff,
		"text":      parseShown(t, shownText(eff)),
		"json":      parseShown(t, shownJSON(t, eff)),
	} {
		t.Run(name, func(t *testing.T) {
			r := CheckTrust(want, s)
			if !reflect.DeepEqual(r.Keys, wantKeys) {
				t.Errorf("keys:\n got %+v\nwant %+v", r.Keys, wantKeys)
			}
			if !reflect.DeepEqual(r.Substituters, wantSubs) {
				t.Errorf("substituters: got %+v", r.Substituters)
			}
			if len(r.Invalid) != 1 || r.Invalid[0].Value != badKey || !strings.Contains(r.Invalid[0].Why, "not base64") {
				t.Errorf("invalid: %+v", r.Invalid)
			}
			// keyOther once, although trusted twice; named and invalid
			// keys are not "others".
			if got := values(r.Others); !slices.Equal(got, []string{keyAcme1Clash, keyOther}) {
				t.Errorf("others: %q", got)
			}
			// shadowed, missing, retired trusted, missing substituter,
			// invalid entry
			if r.OK() || r.Problems() != 5 {
				t.Errorf("OK %v, %d problems; want false, 5", r.OK(), r.Problems())
			}
			var msgs []string
			for _, c := range r.Conflicts {
				msgs = append(msgs, c.Msg)
			}
			wantMsgs := []string{
				"retired key " + keyAcme0 + " is still trusted",
				"retired key " + keyAcme0 + " is still trusted",
				"key " + want.Keys[2] + " is not trusted",
				"substituter https://nowhere.example/ is not configured",
				keyAcme1Clash + ` has the name "cache.acme.example-1" of a policy key but different key bytes, and it comes first, so Nix ignores the policy's key ` + keyAcme1,
			}
			if !slices.Equal(msgs, wantMsgs) {
				t.Errorf("conflicts:\n got %q\nwant %q", msgs, wantMsgs)
			}
		})
	}

	// Only evaluated settings know where a value comes from.
	r := CheckTrust(want, eff)
	if got := []string{r.Conflicts[0].String(), r.Conflicts[1].String(), r.Conflicts[0].Hint}; !slices.Equal(got, []string{
		"/etc/nix/nix.conf:2: retired key " + keyAcme0 + " is still trusted",
		"/etc/nix/extra.conf:1: retired key " + keyAcme0 + " is still trusted",
		"remove it from /etc/nix/nix.conf:2",
	}) {
		t.Errorf("positions: %q", got)
	}
	shown := CheckTrust(want, parseShown(t, shownText(eff)))
	if c := shown.Conflicts[0]; c.String() != "retired key "+keyAcme0+" is still trusted" || !strings.Contains(c.Hint, "does not say which") {
		t.Errorf("shown config conflict: %q, hint %q", c, c.Hint)
	}
}

// TestCheckTrustClashAfter: a different key under a needed key's name that
// comes after it is a conflict for apply (a replaced key to clean up), but
// Nix uses the policy's key, so the check passes.
func TestCheckTrustClashAfter(t *testing.T) {
	eff := evaluated(t, map[string]string{
		"/etc/nix/nix.conf": "trusted-public-keys = " + keyAcme1 + " " + keyAcme1Clash + "\n",
	}, "/etc/nix/nix.conf")
	r := CheckTrust(Want{Target: "nixconf.ci", Keys: []string{keyAcme1}}, eff)
	if !r.OK() || r.Keys[0].Status != TrustOK {
		t.Errorf("OK %v, keys %+v", r.OK(), r.Keys)
	}
	if len(r.Conflicts) != 1 || r.Conflicts[0].Pos.Line != 1 || !strings.HasSuffix(r.Conflicts[0].Msg, "it comes after the policy's key, so Nix ignores it") {
		t.Errorf("conflicts: %+v", r.Conflicts)
	}
}

// TestCheckTrustDefaults: with nothing set, Nix trusts its default key and
// cache; retiring the default key points at setting trusted-public-keys.
func TestCheckTrustDefaults(t *testing.T) {
	eff, err := Evaluate(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := CheckTrust(Want{Target: "nixconf.ci", Retired: []string{NixOSCacheKey}, Substituters: []string{"https://cache.nixos.org"}}, eff)
	if r.OK() || r.Keys[0].Status != TrustStillTrusted || !r.Substituters[0].Configured {
		t.Errorf("report %+v", r)
	}
	if len(r.Conflicts) != 1 || !strings.HasPrefix(r.Conflicts[0].Hint, "Nix trusts it by default") {
		t.Errorf("conflicts %+v", r.Conflicts)
	}
	if r := CheckTrust(Want{Target: "nixconf.ci"}, eff); !r.OK() || !slices.Equal(values(r.Others), []string{NixOSCacheKey}) {
		t.Errorf("empty want: OK %v, others %q", r.OK(), values(r.Others))
	}
}

// TestCheckTrustRealNix checks that CheckTrust gives the same verdict on
// what Evaluate computes and on what Nix itself shows (JSON and text), for
// every corpus configuration before and after its patch.
func TestCheckTrustRealNix(t *testing.T) {
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) { checkTrustRealNix(t, n) })
}

func checkTrustRealNix(t *testing.T, n *nixtest.Nix) {
	for _, c := range loadCorpus(t) {
		if c.nonix || strings.HasPrefix(c.name, "fail_") || c.nixRejects != nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			_, out, _, err := c.run()
			if err != nil {
				t.Fatal(err)
			}
			for _, override := range [][]byte{nil, out} {
				dir := t.TempDir()
				for name, data := range c.files {
					if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if override != nil {
					if err := os.WriteFile(filepath.Join(dir, c.patch), override, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				eff, err := c.effective(override)
				if err != nil {
					t.Fatal(err)
				}
				m, stderr, err := nixShowConfig(t, n, dir)
				if err != nil {
					n.Fatalf(t, "nix %s: %v\n%s", strings.Join(n.ShowConfigArgs(), " "), err, stderr)
				}
				js, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				fromFiles := CheckTrust(c.want, eff)
				for form, data := range map[string][]byte{"json": js, "text": showConfigText(t, n, dir)} {
					fromNix := CheckTrust(c.want, parseShown(t, string(data)))
					if !reflect.DeepEqual(fromNix.Keys, fromFiles.Keys) || !reflect.DeepEqual(fromNix.Substituters, fromFiles.Substituters) ||
						!slices.Equal(values(fromNix.Others), values(fromFiles.Others)) || len(fromNix.Invalid) != len(fromFiles.Invalid) || fromNix.OK() != fromFiles.OK() {
						n.Errorf(t, "patched %v, nix %s:\nnix:     %+v\nkeyform: %+v", override != nil, form, fromNix, fromFiles)
					}
				}
			}
		})
	}
}
