package verify

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/policy"
)

const (
	key0  = "cache.acme.example-0:tdKyhaLmnsvoMHOVxR8E1pEslCu5Pq5awsW/guEX7/s="
	key1  = "cache.acme.example-1:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2Xc="
	other = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="
	acme  = "https://cache.acme.example"
)

// target trusts acme_1 and has retired acme_0, as a rotation leaves it.
func target() *policy.Target {
	return &policy.Target{
		Kind: policy.NixConf, Label: "ci",
		Keys:         []*policy.Key{{Label: "acme_1", PublicKey: key1, State: policy.Active}},
		Retired:      []*policy.Key{{Label: "acme_0", PublicKey: key0, State: policy.Retired}},
		Substituters: []string{acme},
	}
}

func captured(keys, substituters string) []byte {
	return []byte("substituters = " + substituters + "\ntrusted-public-keys = " + keys + "\n")
}

func TestCapturedText(t *testing.T) {
	for _, c := range []struct {
		name, keys, substituters, want string
	}{
		{"ok", other + " " + key1, "https://cache.nixos.org/ " + acme + "/", `nixconf.ci: ok (good.txt)
  ok       key ` + key1 + ` (acme_1)
  ok       retired key ` + key0 + ` (acme_0) not trusted
  ok       substituter ` + acme + `
  note     key ` + other + `: trusted, not named by this target
`},
		{"lagging", other + " " + key0, "https://cache.nixos.org/", `nixconf.ci: 3 problems (good.txt)
  MISSING  key ` + key1 + ` (acme_1): not trusted
  RETIRED  key ` + key0 + ` (acme_0): still trusted
  MISSING  substituter ` + acme + `
  note     key ` + other + `: trusted, not named by this target
`},
		{"shadowed and invalid", "cache.acme.example-1:8mSRKOSMTv1JBVkFOAgTsJ+Ue9c+cDg26nXe8P1hoOQ= " + key1 + " x-1:xxxx", acme, `nixconf.ci: 2 problems (good.txt)
  SHADOWED key ` + key1 + ` (acme_1): cache.acme.example-1:8mSRKOSMTv1JBVkFOAgTsJ+Ue9c+cDg26nXe8P1hoOQ= has the same name and comes first, so Nix ignores the policy's key
  ok       retired key ` + key0 + ` (acme_0) not trusted
  ok       substituter ` + acme + `
  INVALID  key x-1:xxxx: it decodes to 3 bytes, not 32 (Nix: "public key is not valid"); while it is trusted, Nix fails every signature check
  note     key cache.acme.example-1:8mSRKOSMTv1JBVkFOAgTsJ+Ue9c+cDg26nXe8P1hoOQ=: trusted, not named by this target
`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Captured(target(), captured(c.keys, c.substituters), "good.txt")
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			r.WriteText(&b)
			if b.String() != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), c.want)
			}
			if r.OK != (c.name == "ok") {
				t.Errorf("OK = %v", r.OK)
			}
		})
	}
}

// The JSON report has every list, empty ones as [] for scripts, and null
// daemon and user_config for captured output.
func TestCapturedJSON(t *testing.T) {
	r, err := Captured(target(), captured(key0, acme), "standard input")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"target":"nixconf.ci","source":"standard input","ok":false,` +
		`"keys":[{"label":"acme_1","public_key":"` + key1 + `","state":"active","status":"missing","ok":false},` +
		`{"label":"acme_0","public_key":"` + key0 + `","state":"retired","status":"trusted","ok":false}],` +
		`"substituters":[{"url":"` + acme + `","status":"ok","ok":true}],"notes":[],"invalid_keys":[],"daemon":null,"user_config":null}`
	if string(b) != want {
		t.Errorf("got:\n%s\nwant:\n%s", b, want)
	}
	if h := r.Hints(target()); len(h) != 1 || !strings.Contains(h[0], "keyform apply nixconf.ci") {
		t.Errorf("hints = %q", h)
	}
}

func TestCapturedGarbage(t *testing.T) {
	_, err := Captured(target(), []byte("error: experimental Nix feature 'nix-command' is disabled\n"), "x.txt")
	if err == nil || !strings.HasPrefix(err.Error(), "x.txt: line 1: ") || !strings.Contains(hint.Of(err), `"nix config show"`) {
		t.Errorf("err = %v, hint %q", err, hint.Of(err))
	}
}

// What an untrusting daemon ignores is a problem, said with certainty
// only when Nix told, and hinted at.
func TestIgnored(t *testing.T) {
	for _, inferred := range []bool{false, true} {
		r, err := Captured(target(), captured(key1, acme), "here")
		if err != nil {
			t.Fatal(err)
		}
		r.Daemon = &DaemonReport{IgnoredKeys: []KeyRef{}, IgnoredSubstituters: []string{}}
		r.addIgnored(target(), nixconf.Ignored{Keys: []string{key1}, Substituters: []string{acme}}, inferred)
		var b strings.Builder
		r.WriteText(&b)
		why := map[bool]string{false: "the daemon ignores", true: "a daemon ignores"}[inferred]
		for _, want := range []string{
			"nixconf.ci: 2 problems (here)\n",
			"  IGNORED  key " + key1 + " (acme_1): only the user's own configuration trusts it, and " + why + " trusted-public-keys from users it does not trust (NixOS/nix#1921)\n",
			"  IGNORED  substituter " + acme + ": only the user's own configuration sets it, and " + why + " substituters",
		} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("no %q in\n%s", want, b.String())
			}
		}
		if r.OK || len(r.Daemon.IgnoredKeys) != 1 || r.Daemon.IgnoredKeys[0].Label != "acme_1" || len(r.Hints(target())) != 2 {
			t.Errorf("report: %+v, hints %q", r.Daemon, r.Hints(target()))
		}
	}
}

// Without nix on PATH, verify fails and points at --config.
func TestMachineWithoutNix(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Machine(target(), nixconf.CurrentCaller(), false)
	if err == nil || !strings.Contains(err.Error(), "nix is not on PATH") || !strings.Contains(hint.Of(err), "--config FILE") {
		t.Fatalf("err = %v, hint %q", err, hint.Of(err))
	}
}

// Only root may run nix as another user, and only as one that exists.
func TestCallerFor(t *testing.T) {
	if c, err := CallerFor("", 1000); err != nil || c.Name == "" {
		t.Errorf("current caller: %+v, %v", c, err)
	}
	_, err := CallerFor("ann", 1000)
	if err == nil || err.Error() != "verify --user ann needs root: only root can run nix as another user" || !strings.HasPrefix(hint.Of(err), "run it with sudo") {
		t.Errorf("non-root: %v", err)
	}
	_, err = CallerFor("no-such-user-keyform", 0)
	if err == nil || !strings.HasPrefix(err.Error(), `verify --user: no user "no-such-user-keyform" on this machine`) {
		t.Errorf("unknown user: %v", err)
	}
}

func TestFleet(t *testing.T) {
	good := &fstest.MapFile{Data: captured(key1, acme)}
	lagging := &fstest.MapFile{Data: captured(key0+" "+key1, acme)}
	fsys := fstest.MapFS{"a.txt": good, "b.txt": lagging, "c.json": {Data: []byte("{")}, "notes.md": {}}
	r, err := Fleet(target(), "hosts", fsys)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	r.WriteText(&b)
	want := `a: ok (a.txt)
b: 1 problem (b.txt): RETIRED acme_0 still trusted
c: unreadable (c.json)
nixconf.ci on 3 hosts: 1 ok, 1 failing, 1 unreadable
  still trust retired key acme_0 (` + key0 + `): b
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if r.OK || r.Hosts[2].Error == "" || r.SkippedNote() != "skipped 1 entry in hosts that is not HOST.json or HOST.txt: notes.md" {
		t.Errorf("OK %v, error %q, note %q", r.OK, r.Hosts[2].Error, r.SkippedNote())
	}
	r.Skipped = []string{"1", "2", "3", "4", "5", "6"}
	if got := r.SkippedNote(); got != "skipped 6 entries in hosts that are not HOST.json or HOST.txt: 1, 2, 3, 4, 5, ..." {
		t.Errorf("note %q", got)
	}
	if errs := r.HostErrors(); len(errs) != 1 || !strings.HasPrefix(errs[0], "hosts: ") || !strings.Contains(errs[0], "c.json") {
		t.Errorf("HostErrors = %q", errs)
	}
	_, err = Fleet(target(), "empty", fstest.MapFS{})
	if err == nil || !strings.HasPrefix(err.Error(), "empty: ") || !strings.HasSuffix(hint.Of(err), "config show --json > empty/HOST.json") {
		t.Errorf("an empty directory: %v (hint %q)", err, hint.Of(err))
	}
	var text, js strings.Builder
	if err := Write(&text, r, false); err != nil || !strings.HasPrefix(text.String(), "a: ok (a.txt)\n") {
		t.Errorf("Write text: %q, %v", text.String(), err)
	}
	if err := Write(&js, r, true); err != nil || !strings.HasPrefix(js.String(), "{\n  \"target\": \"nixconf.ci\",") || !strings.HasSuffix(js.String(), "}\n") {
		t.Errorf("Write json: %q, %v", js.String(), err)
	}
}

// TestSourceReport: captured output from a file or standard input, and
// --user refused without root before nix is looked for.
func TestSourceReport(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/ci.txt"
	if err := os.WriteFile(file, captured(key1, acme), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Source{Config: "ci.txt", ConfigPath: file}.Report(target())
	if err != nil || !r.OK || r.Source != "ci.txt" {
		t.Errorf("from a file: %+v, %v", r, err)
	}
	r, err = Source{Config: "-", ConfigPath: "ignored", Stdin: bytes.NewReader(captured(key0, acme))}.Report(target())
	if err != nil || r.OK || r.Source != "standard input" {
		t.Errorf("from standard input: %+v, %v; want a mismatch", r, err)
	}
	if _, err := (Source{User: "ann", EUID: 1000}).Report(target()); err == nil || !strings.Contains(err.Error(), "needs root") {
		t.Errorf("--user without root: %v", err)
	}
}
