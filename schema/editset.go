package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/internal/gitfs"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
)

// EditSet collects changes to the files of a policy directory (edited
// policy files, new public key files), so that the edited policy is loaded
// and validated in memory before any file is written, and then written all
// together.
type EditSet struct {
	dir  string
	opts Options
	// files maps a file (relative to dir) to its new content; orig holds
	// the content of existing files before the edit.
	files, orig map[string][]byte
}

// NewEditSet starts an edit of the policy in dir; opts are the options
// Load uses for the edited policy (with AbsDir and WorkTree set, as Load
// would set them).
func NewEditSet(dir string, opts Options) *EditSet {
	return &EditSet{dir: dir, opts: opts, files: map[string][]byte{}, orig: map[string][]byte{}}
}

// EditDir starts an edit of the policy in dir, with AbsDir and WorkTree
// set in opts as Load sets them.
func EditDir(dir string, opts Options) (*EditSet, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	opts.AbsDir, opts.WorkTree = abs, gitfs.FindWorkTree(abs)
	return NewEditSet(abs, opts), nil
}

// PolicyFiles lists the *.hcl files of the policy directory, sorted.
func (es *EditSet) PolicyFiles() ([]string, error) {
	names, err := fs.Glob(os.DirFS(es.dir), "*.hcl")
	slices.Sort(names)
	return names, err
}

// Current returns a file's content with the edits so far.
func (es *EditSet) Current(name string) ([]byte, error) {
	if b, ok := es.files[name]; ok {
		return b, nil
	}
	b, err := ReadFile(filepath.Join(es.dir, name))
	if err != nil {
		return nil, err
	}
	es.orig[name] = b
	return b, nil
}

// Set replaces a file's content, or adds a new file.
func (es *EditSet) Set(name string, data []byte) { es.files[name] = data }

// SetKeyState sets the state of key k in its block (SetKeyState), in the
// file that declares it, keeping the file's comments and layout.
func (es *EditSet) SetKeyState(k *policy.Key, state policy.KeyState) error {
	src, err := es.Current(k.Pos.File)
	if err != nil {
		return err
	}
	out, err := SetKeyState(src, k.Pos.File, k.Label, state)
	if err != nil {
		return err
	}
	es.Set(k.Pos.File, out)
	return nil
}

// WriteKeyState sets the state of key k (SetKeyState), proves the edit by
// loading the edited policy (its diagnostics written to w when it does not
// load: Edited) with k in that state, and only then writes the file.
func (es *EditSet) WriteKeyState(k *policy.Key, state policy.KeyState, w io.Writer, colour bool) error {
	if err := es.SetKeyState(k, state); err != nil {
		return err
	}
	edited, err := es.Edited(w, colour)
	if err != nil {
		return err
	}
	if ek := edited.Key(k.Label); ek == nil || ek.State != state {
		return fmt.Errorf("the edited policy does not show key %s %s; nothing was written (a keyform bug)", k.Label, state)
	}
	return es.Write()
}

// Load loads the edited policy from memory over the directory.
func (es *EditSet) Load() *Result {
	overlay := overlayFS{base: os.DirFS(es.dir), files: map[string][]byte{}}
	for name, b := range es.files {
		overlay.files[filepath.ToSlash(filepath.Clean(name))] = b
	}
	return LoadFS(overlay, ".", es.opts)
}

// Edited loads the edited policy; when it does not load, its diagnostics
// are written to w and the error says nothing was written.
func (es *EditSet) Edited(w io.Writer, colour bool) (*policy.Policy, error) {
	res := es.Load()
	if res.HasErrors() {
		res.WriteDiagnostics(w, 0, colour)
		return nil, hint.Wrap(errors.New("the edited policy does not validate, so nothing was written"),
			"fix what the diagnostics above point at, or report a keyform bug if they are about keyform's own edit")
	}
	return res.Policy, nil
}

// Write writes every changed file atomically, keeping the mode of files
// that exist. If one fails, the files already written are put back and new
// files removed, so the directory is as it was.
func (es *EditSet) Write() error {
	var done []string
	perms := map[string]fs.FileMode{}
	for _, name := range es.changed() {
		full := filepath.Join(es.dir, name)
		perm := fs.FileMode(0o644)
		if fi, err := os.Stat(full); err == nil {
			perm = fi.Mode().Perm()
		}
		perms[name] = perm
		err := os.MkdirAll(filepath.Dir(full), 0o755)
		if err == nil {
			err = atomicfile.WriteFile(full, es.files[name], perm)
		}
		if err != nil {
			es.undo(done, perms)
			return err
		}
		done = append(done, name)
	}
	return nil
}

// changed lists the edited files, sorted.
func (es *EditSet) changed() []string {
	var names []string
	for name, b := range es.files {
		if o, ok := es.orig[name]; !ok || !bytes.Equal(o, b) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func (es *EditSet) undo(written []string, perms map[string]fs.FileMode) {
	for _, name := range written {
		if o, ok := es.orig[name]; ok {
			atomicfile.WriteFile(filepath.Join(es.dir, name), o, perms[name])
		} else {
			os.Remove(filepath.Join(es.dir, name))
		}
	}
}

// overlayFS shows files over a base file system. It does not list the
// overlaid files in directories, which is fine for new files that are read
// by name (public keys), not globbed (*.hcl).
type overlayFS struct {
	base  fs.FS
	files map[string][]byte
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if b, ok := o.files[name]; ok {
		return &memFile{name: path.Base(name), Reader: bytes.NewReader(b)}, nil
	}
	return o.base.Open(name)
}

// memFile is an overlaid file, read-only; it is its own fs.FileInfo
// (bytes.Reader has Size).
type memFile struct {
	name string
	*bytes.Reader
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Name() string               { return f.name }
func (f *memFile) Mode() fs.FileMode          { return 0o644 }
func (f *memFile) ModTime() time.Time         { return time.Time{} }
func (f *memFile) IsDir() bool                { return false }
func (f *memFile) Sys() any                   { return nil }
