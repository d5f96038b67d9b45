// Package gitfs reads a directory of a git repository as it was at some
// revision, as an fs.FS, by asking git (ls-tree and cat-file). It never
// touches the work tree, the index or HEAD, so it is safe to run in a
// checkout with uncommitted changes.
package gitfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/keyform/keyform/internal/memfs"
)

var (
	// ErrNotRepository means the directory is not inside a git work tree.
	ErrNotRepository = errors.New("not inside a git repository")
	// ErrUnknownRevision means git does not know the revision.
	ErrUnknownRevision = errors.New("unknown revision")
)

// Tree is a directory at a revision. Its paths are relative to the
// directory, as with os.DirFS.
type Tree struct {
	// Commit is the full commit ID the revision resolved to.
	Commit string
	// Prefix is the directory relative to the repository root, "" for the
	// root or e.g. "policy/".
	Prefix string
	// Display names the directory in messages the way git names it:
	// "REV:policy", or "REV:." for the root.
	Display string

	dir   string
	tree  memfs.FS          // the file names (no contents), for directory listings
	blobs map[string]string // file name -> blob ID
}

// Open returns the directory dir (a path in a git work tree) at revision
// rev. A directory that did not exist at rev is an empty Tree.
func Open(dir, rev string) (*Tree, error) {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("%w %q", ErrUnknownRevision, rev)
	}
	prefix, err := git(dir, "rev-parse", "--show-prefix")
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotRepository, dir, err)
	}
	commit, err := git(dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownRevision, rev)
	}
	t := &Tree{Commit: strings.TrimSpace(string(commit)), Prefix: strings.TrimSpace(string(prefix)), dir: dir,
		tree: memfs.FS{}, blobs: map[string]string{}}
	t.Display = rev + ":" + strings.TrimSuffix(t.Prefix, "/")
	if t.Prefix == "" {
		t.Display = rev + ":."
	}
	args := []string{"ls-tree", "-r", "-z", "--full-tree", t.Commit}
	if t.Prefix != "" {
		args = append(args, "--", t.Prefix)
	}
	out, err := git(dir, args...)
	if err != nil {
		return nil, err
	}
	for _, entry := range bytes.Split(out, []byte{0}) {
		// "<mode> SP <type> SP <object> TAB <path>"
		meta, name, ok := strings.Cut(string(entry), "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		// Symbolic links (120000) and submodules are not policy files.
		if len(f) != 3 || f[1] != "blob" || f[0] == "120000" {
			continue
		}
		rel := strings.TrimPrefix(name, t.Prefix)
		if !fs.ValidPath(rel) {
			continue
		}
		t.tree[rel] = nil
		t.blobs[rel] = f[2]
	}
	return t, nil
}

// Open implements fs.FS; file contents are read from git on demand.
func (t *Tree) Open(name string) (fs.File, error) {
	id, ok := t.blobs[name]
	if !ok {
		return t.tree.Open(name)
	}
	data, err := git(t.dir, "cat-file", "blob", id)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return memfs.FS{name: data}.Open(name)
}

// ReadDir implements fs.ReadDirFS (used by fs.Glob).
func (t *Tree) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(t.tree, name) }

// Files lists every file of the tree, sorted.
func (t *Tree) Files() []string {
	var names []string
	fs.WalkDir(t.tree, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	return names
}

// FindWorkTree returns the root of the git work tree containing dir (an
// absolute path), or "" when there is none. It looks for .git itself
// instead of asking git, so it works without git installed and costs a few
// stat calls.
func FindWorkTree(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// InWorkTree names dir (absolute, symlinks resolved) relative to the root
// of the git work tree holding it, slash-separated: "." at the root or
// outside git. Never absolute, so what names it (generated file headers)
// does not depend on where the repository is checked out.
func InWorkTree(dir string) string {
	root := FindWorkTree(dir)
	if root == "" {
		return "."
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return "."
	}
	return filepath.ToSlash(rel)
}

func git(dir string, args ...string) ([]byte, error) {
	// Paths are data, never pathspec magic.
	cmd := exec.Command("git", append([]string{"--literal-pathspecs"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("git %s: %s", args[0], firstLine(msg))
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
