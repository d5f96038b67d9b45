package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/nixtest"
	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/verify"
)

// These tests run "keyform verify" without --config against real Nix, once
// per Nix version (internal/nixtest): the version's directory goes first
// on PATH, so verify finds that nix, and the nix.conf files are the
// test's own. They change the process's environment, so none runs in
// parallel.

const (
	verifyKey1 = "cache.acme.example-1:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2Xc="
	acmeCache  = "https://cache.acme.example"
)

// verifyJSON is the part of verify's JSON report these tests read.
type verifyJSON struct {
	Source       string                 `json:"source"`
	User         string                 `json:"user"`
	OK           bool                   `json:"ok"`
	Keys         []verify.KeyCheck      `json:"keys"`
	Substituters []verify.SubstCheck    `json:"substituters"`
	Daemon       *verify.DaemonReport   `json:"daemon"`
	UserConfig   *verify.UserConfReport `json:"user_config"`
}

// verifyEnv is a machine for one test: a base directory everyone can read
// (a daemon's socket and another user's client need that), with the
// system's nix.conf in base/etc and a home in base/home.
type verifyEnv struct {
	base, etc, home, policy string
}

func newVerifyEnv(t *testing.T, n *nixtest.Nix, system string) *verifyEnv {
	t.Helper()
	base, err := os.MkdirTemp("", "keyform-verify-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	v := &verifyEnv{base: base, etc: filepath.Join(base, "etc"), home: filepath.Join(base, "home"), policy: filepath.Join(base, "policy")}
	for _, d := range []string{v.etc, v.home, v.policy, filepath.Join(base, "xdg")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	v.write(t, filepath.Join(v.etc, "nix.conf"), system)
	v.write(t, filepath.Join(v.policy, "keyform.hcl"), verifyPolicy)
	t.Setenv("PATH", n.Dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("HOME", v.home)
	t.Setenv("NIX_CONF_DIR", v.etc)
	t.Setenv("XDG_CONFIG_DIRS", filepath.Join(base, "xdg")) // not the machine's /etc/xdg
	for _, k := range []string{"XDG_CONFIG_HOME", "NIX_CONFIG_HOME", "NIX_USER_CONF_FILES", "NIX_CONFIG", "NIX_REMOTE", "NIX_DAEMON_SOCKET_PATH"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	return v
}

func (v *verifyEnv) write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// userConf is the path of the home's ~/.config/nix/nix.conf.
func (v *verifyEnv) userConf() string { return filepath.Join(v.home, ".config", "nix", "nix.conf") }

// verify runs keyform verify ARGS... --json and decodes the report.
func (v *verifyEnv) verify(t *testing.T, n *nixtest.Nix, args ...string) (int, *verifyJSON, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &cli.Env{Stdin: new(bytes.Buffer), Stdout: &stdout, Stderr: &stderr, Rand: rand.Reader}
	code := run(append([]string{"-C", v.policy, "verify", "nixconf.ci", "--json"}, args...), e)
	var r verifyJSON
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		n.Fatalf(t, "exit %d, not a JSON report: %v\n%s%s", code, err, &stdout, &stderr)
	}
	return code, &r, stderr.String()
}

// verifyText runs keyform verify with its text report.
func (v *verifyEnv) verifyText(t *testing.T) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &cli.Env{Stdin: new(bytes.Buffer), Stdout: &out, Stderr: &errOut, Rand: rand.Reader}
	code = run([]string{"-C", v.policy, "verify", "nixconf.ci"}, e)
	return code, out.String(), errOut.String()
}

// wantSource is the command verify must have run on n.
func wantSource(n *nixtest.Nix) string {
	if n.AtLeast("2.20") {
		return "nix config show"
	}
	return "nix show-config"
}

// TestVerifyRealNix: verify runs "nix config show" on Nix 2.20 and later
// and "nix show-config" before, reads the result, and finds the user's
// plain substituters line that drops the system's extra-substituters
// (cachix#413) with its file and line.
func TestVerifyRealNix(t *testing.T) {
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
		v := newVerifyEnv(t, n, "extra-substituters = "+acmeCache+"\nextra-trusted-public-keys = "+verifyKey1+"\n")
		code, r, stderr := v.verify(t, n)
		if code != cli.ExitOK || r.Source != wantSource(n) || !r.OK || r.UserConfig == nil || len(r.UserConfig.Replaced) != 0 {
			n.Fatalf(t, "system nix.conf only: exit %d, report %+v\n%s", code, r, stderr)
		}

		v.write(t, v.userConf(), "# as cachix use writes it\nsubstituters = https://cache.nixos.org/\n")
		code, r, stderr = v.verify(t, n)
		if code != cli.ExitDiffers || r.Source != wantSource(n) || r.Substituters[0].Status != "missing" {
			n.Fatalf(t, "plain user line: exit %d, report %+v\n%s", code, r, stderr)
		}
		rep := r.UserConfig.Replaced
		if len(rep) != 1 || rep[0].Pos != (nixconf.Pos{File: v.userConf(), Line: 2}) || rep[0].Setting != "substituters" ||
			len(rep[0].Dropped) != 1 || rep[0].Dropped[0].Value != acmeCache || rep[0].Dropped[0].Pos != (nixconf.Pos{File: filepath.Join(v.etc, "nix.conf"), Line: 1}) {
			n.Errorf(t, "replaced %+v", rep)
		}
		code, stdout, stderr := v.verifyText(t)
		if code != cli.ExitDiffers || !strings.Contains(stdout, "\n  warning  "+v.userConf()+":2: plain substituters replaces what the system's nix.conf sets, dropping "+acmeCache) ||
			!strings.Contains(stderr, "hint: make the plain lines of the warnings above extra- lines") {
			n.Errorf(t, "text: exit %d\n%s%s", code, stdout, stderr)
		}
		// As root, Nix uses the store directly: no daemon to ask.
		if os.Geteuid() == 0 && (r.Daemon == nil || r.Daemon.Trust != "no-daemon" || r.Daemon.Store != "local" || r.Daemon.Error != "") {
			n.Errorf(t, "daemon %+v", r.Daemon)
		}
	})
}

// TestVerifyDaemonRealNix: with a daemon of the same version, verify says
// whether it trusts the caller (Nix 2.26 asks it; Nix 2.8 cannot, and
// matches trusted-users) and names the target's key and substituter that
// only the caller's nix.conf gives, which an untrusting daemon ignores.
func TestVerifyDaemonRealNix(t *testing.T) {
	nixtest.RequireRoot(t)
	for _, c := range []struct {
		name, system string
		trust        string
		ignoredKey   bool
		ignoredSubst bool
	}{
		{"untrusted", "trusted-users = nobody\n", "untrusted", true, true},
		{"untrusted, trusted substituter", "trusted-users = nobody\ntrusted-substituters = " + acmeCache + "\n", "untrusted", true, false},
		{"trusted", "trusted-users = root\n", "trusted", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
				v := newVerifyEnv(t, n, c.system)
				v.write(t, v.userConf(), "extra-substituters = "+acmeCache+"\nextra-trusted-public-keys = "+verifyKey1+"\n")
				socket := n.StartDaemon(t, v.etc)
				t.Setenv("NIX_REMOTE", "daemon")
				t.Setenv("NIX_DAEMON_SOCKET_PATH", socket)
				code, r, stderr := v.verify(t, n)
				d := r.Daemon
				if d == nil || d.Error != "" {
					n.Fatalf(t, "daemon %+v\n%s", d, stderr)
				}
				// Nix 2.8 cannot say; keyform matches trusted-users.
				inferred := !n.AtLeast("2.15")
				if d.Store != "daemon" || d.Trust != c.trust || d.Inferred != inferred || d.Version != n.Version {
					n.Errorf(t, "daemon %+v; want trust %s, inferred %v", d, c.trust, inferred)
				}
				if got := len(d.IgnoredKeys) == 1 && d.IgnoredKeys[0].Label == "acme_1"; got != c.ignoredKey {
					n.Errorf(t, "ignored keys %+v", d.IgnoredKeys)
				}
				if got := len(d.IgnoredSubstituters) == 1 && d.IgnoredSubstituters[0] == acmeCache; got != c.ignoredSubst {
					n.Errorf(t, "ignored substituters %+v", d.IgnoredSubstituters)
				}
				// What nix config show says is fine; the daemon decides.
				wantCode := cli.ExitOK
				if c.ignoredKey || c.ignoredSubst {
					wantCode = cli.ExitDiffers
				}
				if code != wantCode || r.Keys[0].Status != "ok" || r.Substituters[0].Status != "ok" {
					n.Errorf(t, "exit %d (want %d), report %+v\n%s", code, wantCode, r, stderr)
				}
			})
		})
	}
}

// TestVerifyUserRealNix: as root, verify --user NAME runs nix as a
// throwaway user, in their home: their ~/.config/nix/nix.conf is read (its
// plain substituters line named), and the daemon, which does not trust
// them, ignores the key only that file trusts.
func TestVerifyUserRealNix(t *testing.T) {
	nixtest.RequireRoot(t)
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
		v := newVerifyEnv(t, n, "extra-substituters = "+acmeCache+"\ntrusted-users = root\n")
		name := throwawayUser(t, v.home)
		caller, err := nixconf.CallerAs(name, os.LookupEnv)
		if err != nil {
			t.Fatal(err)
		}
		if _, stderr, err := caller.Output([]string{"nix", "--version"}); err != nil {
			// Nix 2.26 runs through .ci/setup-nix's wrapper, which needs
			// unprivileged user namespaces to run as another user.
			msg := fmt.Sprintf("%s cannot run as another user here: %v: %s", n, err, bytes.TrimSpace(stderr))
			if os.Getenv(nixtest.EnvRequire) == "1" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		userConf := filepath.Join(v.home, ".config", "nix", "nix.conf")
		v.write(t, userConf, "substituters = https://cache.nixos.org/\nextra-trusted-public-keys = "+verifyKey1+"\n")
		chownUser(t, name, v.home)
		socket := n.StartDaemon(t, v.etc)
		t.Setenv("NIX_REMOTE", "daemon")
		t.Setenv("NIX_DAEMON_SOCKET_PATH", socket)

		code, r, stderr := v.verify(t, n, "--user", name)
		if code != cli.ExitDiffers || r.User != name || r.Source != wantSource(n)+" as "+name {
			n.Fatalf(t, "exit %d, report %+v\n%s", code, r, stderr)
		}
		if d := r.Daemon; d == nil || d.Trust != "untrusted" || len(d.IgnoredKeys) != 1 || d.IgnoredKeys[0].Label != "acme_1" {
			n.Errorf(t, "daemon %+v", r.Daemon)
		}
		if rep := r.UserConfig.Replaced; len(rep) != 1 || rep[0].Pos != (nixconf.Pos{File: userConf, Line: 1}) {
			n.Errorf(t, "replaced %+v", rep)
		}
		if r.Substituters[0].Status != "missing" || r.Keys[0].Status != "ok" {
			n.Errorf(t, "keys %+v, substituters %+v", r.Keys, r.Substituters)
		}
	})
}

// throwawayUser adds a user whose home is home (owned by them) for one
// test, and deletes it afterwards.
func throwawayUser(t *testing.T, home string) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := "kfverify" + hex.EncodeToString(b)
	out, err := exec.Command("useradd", "--no-create-home", "--home-dir", home, "--shell", "/usr/sbin/nologin", "--user-group", name).CombinedOutput()
	if err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v: %s", name, err, out)
		}
	})
	chownUser(t, name, home)
	return name
}

// chownUser gives a directory tree to user name.
func chownUser(t *testing.T, name, dir string) {
	t.Helper()
	if out, err := exec.Command("chown", "-R", name+":", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
}
