package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/cli"
)

// gitRun runs git in dir with a fixed identity, failing the test on error.
func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_COMMITTER_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// runIn runs keyform with -C dir in-process and returns the exit code and
// output.
func runIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var stdout, stderr bytes.Buffer
	e := &cli.Env{Stdin: new(bytes.Buffer), Stdout: &stdout, Stderr: &stderr, Rand: rand.Reader}
	code := run(append([]string{"-C", dir}, args...), e)
	return code, stdout.String(), stderr.String()
}

// plan's exit status is what CI branches on (testscript only tells zero
// from non-zero), and no secret may reach any of its outputs.
func TestPlanExitCodesAndSecrets(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	secrets := filepath.Join(root, "secrets")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	policy := `catalog "acme" {}

key "acme_1" {
  name             = "cache.acme.example-1"
  catalog          = catalog.acme
  public_key_file  = "keys/acme-1.pub"
  private_key_path = "` + filepath.Join(secrets, "acme-1.key") + `"
}

target "nixos" "farm" {
  trust = [catalog.acme]
}
`
	if err := os.WriteFile(filepath.Join(repo, "keyform.hcl"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo, "init", "-q", "-b", "main")
	if code, _, stderr := runIn(t, repo, "keygen"); code != cli.ExitOK {
		t.Fatalf("keygen: %d %s", code, stderr)
	}
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "commit", "-qm", "base")

	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no changes", []string{"plan"}, cli.ExitOK},
		{"no changes, --exit-code", []string{"plan", "--exit-code"}, cli.ExitOK},
		{"usage error", []string{"plan", "--format", "yaml"}, cli.ExitInvalid},
		{"unknown base", []string{"plan", "--base", "nope"}, cli.ExitInvalid},
	}
	for _, tt := range tests {
		if code, _, stderr := runIn(t, repo, tt.args...); code != tt.want {
			t.Errorf("%s: keyform %v: exit %d, want %d\n%s", tt.name, tt.args, code, tt.want, stderr)
		}
	}

	// Rotate, then every format: exit 0 without --exit-code, 1 with it.
	if code, _, stderr := runIn(t, repo, "rotate", "acme_1"); code != cli.ExitOK {
		t.Fatalf("rotate: %d %s", code, stderr)
	}
	var outputs []string
	for _, format := range []string{"text", "markdown", "json"} {
		code, stdout, stderr := runIn(t, repo, "plan", "--format", format)
		if code != cli.ExitOK || !strings.Contains(stdout, "cache.acme.example-2") {
			t.Errorf("plan --format %s: exit %d\n%s%s", format, code, stdout, stderr)
		}
		outputs = append(outputs, stdout, stderr)
		code, stdout, stderr = runIn(t, repo, "plan", "--format", format, "--exit-code")
		if code != cli.ExitDiffers {
			t.Errorf("plan --format %s --exit-code: exit %d, want %d\n%s", format, code, cli.ExitDiffers, stderr)
		}
		outputs = append(outputs, stdout, stderr)
	}

	// An invalid base is exit 2.
	if err := os.WriteFile(filepath.Join(repo, "broken.hcl"), []byte("key {"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo, "add", "broken.hcl")
	gitRun(t, repo, "commit", "-qm", "broken")
	os.Remove(filepath.Join(repo, "broken.hcl"))
	code, stdout, stderr := runIn(t, repo, "plan", "--exit-code")
	if code != cli.ExitInvalid || !strings.Contains(stderr, "HEAD:./broken.hcl") {
		t.Errorf("invalid base: exit %d, want %d\n%s", code, cli.ExitInvalid, stderr)
	}
	outputs = append(outputs, stdout, stderr)

	for _, name := range []string{"acme-1.key", "cache.acme.example-2.key"} {
		secret, err := os.ReadFile(filepath.Join(secrets, name))
		if err != nil {
			t.Fatal(err)
		}
		_, b64, _ := strings.Cut(string(secret), ":")
		for _, out := range outputs {
			// Any 12-character piece of the secret's base64 would be a leak.
			for i := 0; i+12 <= len(b64); i++ {
				if strings.Contains(out, b64[i:i+12]) {
					t.Fatalf("output contains part of secret %s:\n%s", name, out)
				}
			}
		}
	}
}
