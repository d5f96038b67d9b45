package gitfs

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

func gitT(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_COMMITTER_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	gitT(t, repo, "init", "-q", "-b", "main")
	gitT(t, repo, "commit", "-q", "--allow-empty", "-m", "empty")
	gitT(t, repo, "tag", "empty")
	// Odd names must be read literally, not as pathspec magic.
	pol := filepath.Join(repo, "nix", "pol*icy")
	write(t, filepath.Join(pol, "a.hcl"), "A")
	write(t, filepath.Join(pol, "keys", "k 1.pub"), "K1")
	write(t, filepath.Join(repo, "nix", "other", "b.hcl"), "B")
	write(t, filepath.Join(repo, "nix", "pol-icy", "c.hcl"), "C")
	if err := os.Symlink("a.hcl", filepath.Join(pol, "link.hcl")); err != nil {
		t.Fatal(err)
	}
	gitT(t, repo, "add", "-A")
	gitT(t, repo, "commit", "-qm", "policy")
	// The work tree moves on; the revision must not.
	write(t, filepath.Join(pol, "a.hcl"), "changed")
	write(t, filepath.Join(pol, "new.hcl"), "new")

	tree, err := Open(pol, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if tree.Prefix != "nix/pol*icy/" || tree.Display != "HEAD:nix/pol*icy" || len(tree.Commit) < 40 {
		t.Errorf("tree = %+v", tree)
	}
	if got, want := tree.Files(), []string{"a.hcl", "keys/k 1.pub"}; !slices.Equal(got, want) {
		t.Errorf("Files() = %q, want %q (symlinks and other directories excluded)", got, want)
	}
	names, err := fs.Glob(tree, "*.hcl")
	if err != nil || !slices.Equal(names, []string{"a.hcl"}) {
		t.Errorf("Glob = %q, %v", names, err)
	}
	if b, err := fs.ReadFile(tree, "a.hcl"); err != nil || string(b) != "A" {
		t.Errorf("a.hcl = %q, %v; want the committed content", b, err)
	}
	if b, err := fs.ReadFile(tree, "keys/k 1.pub"); err != nil || string(b) != "K1" {
		t.Errorf("keys/k 1.pub = %q, %v", b, err)
	}
	if _, err := fs.ReadFile(tree, "new.hcl"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("uncommitted file: %v, want not exist", err)
	}

	// Before the directory existed, the tree is empty.
	tree, err = Open(pol, "empty")
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Files()) != 0 {
		t.Errorf("files at a revision without the directory: %q", tree.Files())
	}

	// At the repository root the display says "REV:.".
	tree, err = Open(repo, "main")
	if err != nil || tree.Display != "main:." || len(tree.Files()) != 4 {
		t.Errorf("root tree %+v, %v", tree, err)
	}

	if _, err := Open(pol, "nope"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("unknown revision: %v", err)
	}
	if _, err := Open(pol, "--output=x"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("option as revision: %v", err)
	}
	if _, err := Open(t.TempDir(), "HEAD"); !errors.Is(err, ErrNotRepository) {
		t.Errorf("outside a repository: %v", err)
	}
}

func TestFindWorkTree(t *testing.T) {
	outer := t.TempDir()
	if err := os.Mkdir(filepath.Join(outer, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A linked worktree or submodule has a .git file, and the nearest
	// work tree wins over the one around it.
	inner := filepath.Join(outer, "vendor", "sub")
	write(t, filepath.Join(inner, ".git"), "gitdir: ../../.git/modules/sub\n")
	deep := filepath.Join(inner, "policy", "keys")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		outer:                               outer,
		filepath.Join(outer, "vendor"):      outer,
		inner:                               inner,
		deep:                                inner,
		filepath.Join(deep, "not", "there"): inner,
	} {
		if got := FindWorkTree(dir); got != want {
			t.Errorf("FindWorkTree(%s) = %q, want %q", dir, got, want)
		}
	}
}

// TestInWorkTree: relative to the work tree's root, "." at the root or
// outside any work tree; git itself is not needed.
func TestInWorkTree(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "repo", ".git", "HEAD"), "ref: refs/heads/main\n")
	for dir, want := range map[string]string{
		filepath.Join(root, "repo"):                  ".",
		filepath.Join(root, "repo", "nix", "policy"): "nix/policy",
		filepath.Join(root, "elsewhere"):             ".",
	} {
		if got := InWorkTree(dir); got != want {
			t.Errorf("InWorkTree(%s) = %q, want %q", dir, got, want)
		}
	}
}
