package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/nixtest"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/keyform/keyform/nixconf"
)

// corpusPolicy is the policy of the nix.conf corpus's default Want: trust
// cache.acme.example-1 and its substituter, retire cache.acme.example-0.
const corpusPolicy = `catalog "acme" {
  substituter = "https://cache.acme.example"
}

key "acme_0" {
  name       = "cache.acme.example-0"
  catalog    = catalog.acme
  public_key = "cache.acme.example-0:tdKyhaLmnsvoMHOVxR8E1pEslCu5Pq5awsW/guEX7/s="
  state      = "retired"
}

key "acme_1" {
  name       = "cache.acme.example-1"
  catalog    = catalog.acme
  public_key = "cache.acme.example-1:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2Xc="
}

target "nixconf" "ci" {
  trust = [catalog.acme]
  path  = "/nonexistent/nix.conf"
}
`

// applyRun runs "keyform -C dir ARGS" in process and returns the exit
// code, stdout and stderr. -C changes the working directory: it is
// restored afterwards.
func applyRun(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(".") // restores the working directory that -C changes
	t.Setenv("NIX_DAEMON_SOCKET_PATH", filepath.Join(dir, "no-daemon"))
	var stdout, stderr strings.Builder
	e := &cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Rand: rand.Reader}
	code := run(append([]string{"-C", dir}, args...), e)
	return code, stdout.String(), stderr.String()
}

// TestApplyNixVersions runs "keyform apply" on the corpus's value vectors
// (nix.conf files with values Nix rejects and keyform's parser accepts)
// with each Nix version: whenever that Nix rejects the file, apply exits
// 2, leaves it byte for byte as it was and names the line; otherwise it
// patches the file.
func TestApplyNixVersions(t *testing.T) {
	names, err := filepath.Glob("../../nixconf/testdata/corpus/value_*.txtar")
	if err != nil || len(names) == 0 {
		t.Fatalf("no value vectors: %v", err)
	}
	nixtest.EachOnPath(t, func(t *testing.T, n *nixtest.Nix) {
		version := n.MajorMinor()
		for _, name := range names {
			ar, err := txtar.ParseFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var rejects []string
			var line string
			for _, l := range strings.Split(string(ar.Comment), "\n") {
				switch f := strings.Fields(l); {
				case len(f) > 0 && f[0] == "nixrejects":
					rejects = f[1:]
				case len(f) == 2 && f[0] == "nixline":
					line = f[1]
				}
			}
			t.Run(strings.TrimSuffix(filepath.Base(name), ".txtar"), func(t *testing.T) {
				dir := t.TempDir()
				policy := filepath.Join(dir, "policy")
				writeFile(t, filepath.Join(policy, "keyform.hcl"), corpusPolicy)
				for _, f := range ar.Files {
					if !strings.HasSuffix(f.Name, ".golden") {
						writeFile(t, filepath.Join(dir, "etc", f.Name), string(f.Data))
					}
				}
				conf := filepath.Join(dir, "etc", "nix.conf")
				before, _ := os.ReadFile(conf)
				code, stdout, stderr := applyRun(t, policy, "apply", "nixconf.ci", "--file", conf)
				after, _ := os.ReadFile(conf)
				if !slices.Contains(rejects, version) {
					if code != 0 || !strings.HasPrefix(stdout, "patched ") {
						t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
					}
					return
				}
				file, n, _ := strings.Cut(line, ":")
				at := filepath.Join(dir, "etc", file) + ":" + n + ": nix "
				if code != 2 || stdout != "" || !bytes.Equal(before, after) || !strings.HasPrefix(stderr, "keyform: "+at) || !strings.Contains(stderr, "predates keyform") {
					t.Errorf("exit %d, file changed %v, want exit 2 naming %s\n%s%s", code, !bytes.Equal(before, after), at, stdout, stderr)
				}
			})
		}
	})
}

// TestApplyWithoutNix: no nix on PATH is not an error; apply says the
// file was checked by keyform's parser only, and says nothing with
// --no-nix-check.
func TestApplyWithoutNix(t *testing.T) {
	for _, p := range nixconf.LocalHost().NixPaths {
		if _, err := os.Stat(p); err == nil {
			t.Skipf("nix is installed at %s, where apply looks when it is not on PATH", p)
		}
	}
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy")
	writeFile(t, filepath.Join(policy, "keyform.hcl"), corpusPolicy)
	conf := filepath.Join(dir, "nix.conf")
	writeFile(t, conf, "sandbox = maybe\n")
	t.Setenv("PATH", filepath.Join(dir, "empty"))

	code, stdout, stderr := applyRun(t, policy, "apply", "nixconf.ci", "--file", conf, "--dry-run")
	want := "keyform: note: nix is not installed (no nix on PATH or at /nix/var/nix/profiles/default/bin/nix): " + conf + " as apply would write it was checked by keyform's parser only\n"
	if code != 1 || !strings.Contains(stdout, "\n+extra-trusted-public-keys = ") || stderr != want {
		t.Errorf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = applyRun(t, policy, "apply", "nixconf.ci", "--file", conf)
	if code != 0 || !strings.HasPrefix(stdout, "patched ") || stderr != want {
		t.Errorf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = applyRun(t, policy, "apply", "nixconf.ci", "--file", conf, "--no-nix-check")
	if code != 0 || stderr != "" {
		t.Errorf("--no-nix-check: exit %d\n%s", code, stderr)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
