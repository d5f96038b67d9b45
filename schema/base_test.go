package schema

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/hint"
)

// expiredPolicy has an active key whose date has passed at testNow: an
// error for the head, nothing for a base.
const expiredPolicy = `catalog "acme" {}

key "expired" {
  name       = "cache.acme.example-2"
  catalog    = catalog.acme
  public_key = "cache.acme.example-2:Xz81cuq/+NJl6ZJ7UAgWGJRgj1gE4p/jCPejDqMwWNo="
  expires    = "2026-11-01"
}
`

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadBaseDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "base", "keyform.hcl"), expiredPolicy)
	writeFile(t, filepath.Join(dir, "bad", "keyform.hcl"), "catalog {\n")

	// Expiry is not judged for a base, even when the options ask for it.
	b := LoadBase(BaseSpec{PolicyDir: filepath.Join(dir, "head"), Dir: "../base"}, Options{Now: testNow})
	var stderr bytes.Buffer
	p, note, err := b.Policy(&stderr, false)
	if err != nil || note != "" || p == nil || p.Key("expired") == nil {
		t.Fatalf("Policy() = %v, %q, %v; want the base with its expired key", p, note, err)
	}
	if b.Name != "../base" || stderr.Len() > 0 {
		t.Errorf("Name = %q, stderr %q", b.Name, stderr.String())
	}

	// An invalid base prints its errors, named under DirName, and says so.
	b = LoadBase(BaseSpec{PolicyDir: dir, Dir: "bad"}, Options{Now: testNow})
	p, _, err = b.Policy(&stderr, false)
	if p != nil || err == nil || !strings.Contains(err.Error(), "the base policy (bad) is invalid") || !strings.Contains(hint.Of(err), "--base REV") {
		t.Fatalf("invalid base: %v, %v (hint %q)", p, err, hint.Of(err))
	}
	if !strings.Contains(stderr.String(), "bad/keyform.hcl:") {
		t.Errorf("errors not named under the base directory:\n%s", stderr.String())
	}

	// A missing directory is an error with a hint, not a load.
	b = LoadBase(BaseSpec{PolicyDir: "/elsewhere", Dir: filepath.Join(dir, "nope")}, Options{})
	if _, _, err := b.Policy(&stderr, false); err == nil || err.Error() != "--base-dir "+filepath.Join(dir, "nope")+" is not a directory" || hint.Of(err) == "" {
		t.Errorf("missing dir: %v", err)
	}
}

func TestLoadBaseRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_COMMITTER_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_NOSYSTEM=1", "HOME="+repo)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	pol := filepath.Join(repo, "policy")
	git("init", "-q", "-b", "main")
	git("commit", "-q", "--allow-empty", "-m", "empty")
	git("tag", "empty")
	writeFile(t, filepath.Join(pol, "keyform.hcl"), expiredPolicy)
	git("add", ".")
	git("commit", "-q", "-m", "policy")

	// Rev "" is HEAD, read from git with expiry ignored, while the head
	// loads.
	headRan := false
	b := LoadBaseWhile(BaseSpec{PolicyDir: pol}, Options{Now: testNow}, func() { headRan = true })
	if !headRan {
		t.Error("LoadBaseWhile did not run the head's load")
	}
	p, note, err := b.Policy(os.Stderr, false)
	if b.Name != "HEAD" || err != nil || note != "" || p.Key("expired") == nil {
		t.Fatalf("HEAD base: name %q, %v, %q, %v", b.Name, p, note, err)
	}
	// Before the policy existed, everything is new.
	b = LoadBase(BaseSpec{PolicyDir: pol, Rev: "empty"}, Options{Now: testNow})
	p, note, err = b.Policy(os.Stderr, false)
	if p != nil || err != nil || !strings.HasSuffix(note, "; everything is new") || !strings.Contains(note, "policy") {
		t.Errorf("base before the policy: %v, %q, %v", p, note, err)
	}
	// An unknown revision says how to fetch it.
	b = LoadBase(BaseSpec{PolicyDir: pol, Rev: "nosuchrev"}, Options{})
	if _, _, err := b.Policy(os.Stderr, false); err == nil || !strings.Contains(err.Error(), `unknown git revision "nosuchrev"`) {
		t.Errorf("unknown revision: %v", err)
	}
}
