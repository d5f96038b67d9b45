package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/cli"
)

const verifyPolicy = `catalog "acme" {
  substituter = "https://cache.acme.example"
}
key "acme_0" {
  catalog    = catalog.acme
  name       = "cache.acme.example-0"
  public_key = "cache.acme.example-0:tdKyhaLmnsvoMHOVxR8E1pEslCu5Pq5awsW/guEX7/s="
  state      = "retired"
}
key "acme_1" {
  catalog    = catalog.acme
  name       = "cache.acme.example-1"
  public_key = "cache.acme.example-1:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2Xc="
}
target "nixconf" "ci" {
  trust = [catalog.acme]
}
`

// runVerifyIn runs keyform with dir as the policy directory, holding policy.
func runVerifyIn(t *testing.T, dir, policy string, e *cli.Env, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "keyform.hcl"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	e.Stdin, e.Stdout, e.Stderr = new(bytes.Buffer), &out, &errOut
	code = run(append([]string{"-C", dir}, args...), e)
	return code, out.String(), errOut.String()
}

// TestVerifyFleetExitCodes pins verify --config-dir's exit statuses: 0
// every host ok, 1 one differs, 2 one cannot be read (whatever the others
// say).
func TestVerifyFleetExitCodes(t *testing.T) {
	good := "substituters = https://cache.acme.example\ntrusted-public-keys = cache.acme.example-1:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2Xc=\n"
	retired := "substituters = https://cache.acme.example\ntrusted-public-keys = cache.acme.example-0:tdKyhaLmnsvoMHOVxR8E1pEslCu5Pq5awsW/guEX7/s= cache.acme.example-1:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2Xc=\n"
	for _, c := range []struct {
		name  string
		hosts map[string]string
		want  int
	}{
		{"all ok", map[string]string{"a.txt": good, "b.txt": good}, cli.ExitOK},
		{"one lags", map[string]string{"a.txt": good, "b.txt": retired}, cli.ExitDiffers},
		{"one unreadable", map[string]string{"a.txt": retired, "b.json": "{"}, cli.ExitInvalid},
		{"none", map[string]string{"notes": ""}, cli.ExitInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			hosts := filepath.Join(dir, "hosts")
			if err := os.Mkdir(hosts, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range c.hosts {
				if err := os.WriteFile(filepath.Join(hosts, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, args := range [][]string{{"verify", "nixconf.ci", "--config-dir", "hosts"}, {"verify", "nixconf.ci", "--config-dir", "hosts", "--json"}} {
				if code, stdout, stderr := runVerifyIn(t, dir, verifyPolicy, &cli.Env{}, args...); code != c.want {
					t.Errorf("%v: exit %d, want %d\n%s%s", args, code, c.want, stdout, stderr)
				}
			}
		})
	}
}

// TestVerifyUserNeedsRoot: --user is refused (exit 2) unless keyform runs
// as root, before anything runs.
func TestVerifyUserNeedsRoot(t *testing.T) {
	e := &cli.Env{Sys: cli.System{Geteuid: func() int { return 1000 }}}
	code, _, stderr := runVerifyIn(t, t.TempDir(), verifyPolicy, e, "verify", "nixconf.ci", "--user", "ann")
	if code != cli.ExitInvalid || !strings.Contains(stderr, "keyform: verify --user ann needs root: only root can run nix as another user\nhint: run it with sudo") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	e = &cli.Env{Sys: cli.System{Geteuid: func() int { return 0 }}}
	code, _, stderr = runVerifyIn(t, t.TempDir(), verifyPolicy, e, "verify", "nixconf.ci", "--user", "no-such-user-keyform")
	if code != cli.ExitInvalid || !strings.Contains(stderr, `keyform: verify --user: no user "no-such-user-keyform" on this machine`) {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}
