package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing/fstest"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
)

// policyEdit collects changes to the policy directory (the current
// directory) so that the edited policy is validated in memory before any
// file is written, and written all together afterwards.
type policyEdit struct {
	e    *env
	opts schema.Options
	// files maps a policy file or a new file (a public key) to its new
	// content; orig holds the content of existing files before the edit.
	files map[string][]byte
	orig  map[string][]byte
}

func newPolicyEdit(e *env, opts schema.Options) *policyEdit {
	return &policyEdit{e: e, opts: opts, files: map[string][]byte{}, orig: map[string][]byte{}}
}

// current returns a file's content with the edits so far.
func (pe *policyEdit) current(name string) ([]byte, error) {
	if b, ok := pe.files[name]; ok {
		return b, nil
	}
	b, err := os.ReadFile(pe.e.path(name))
	if err != nil {
		return nil, err
	}
	pe.orig[name] = b
	return b, nil
}

func (pe *policyEdit) set(name string, data []byte) { pe.files[name] = data }

// changed lists the edited files, sorted.
func (pe *policyEdit) changed() []string {
	var names []string
	for name, b := range pe.files {
		if o, ok := pe.orig[name]; !ok || string(o) != string(b) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// validate loads the edited policy from memory (over the directory) and
// prints its diagnostics if it does not load.
func (pe *policyEdit) validate(e *env) (*policy.Policy, error) {
	opts := pe.opts
	if opts.Now.IsZero() {
		opts.Now = e.now()
	}
	abs, err := filepath.Abs(e.path("."))
	if err != nil {
		return nil, err
	}
	opts.AbsDir, opts.WorkTree = abs, workTree(abs)
	overlay := overlayFS{base: os.DirFS(abs), files: map[string][]byte{}}
	for name, b := range pe.files {
		overlay.files[filepath.ToSlash(filepath.Clean(name))] = b
	}
	res := schema.LoadFS(overlay, ".", opts)
	if res.HasErrors() {
		res.WriteDiagnostics(e.stderr, 0, useColor(e.stderr))
		return nil, withHint(errors.New("the edited policy does not validate, so nothing was written"),
			"fix what the diagnostics above point at, or report a keyform bug if they are about keyform's own edit")
	}
	return res.Policy, nil
}

// write writes every changed file atomically. If one fails, the files
// already written are put back and new files removed, so the directory is
// as it was.
func (pe *policyEdit) write() error {
	var done []string
	perms := map[string]fs.FileMode{}
	for _, name := range pe.changed() {
		perm := fs.FileMode(0o644)
		if fi, err := os.Stat(pe.e.path(name)); err == nil {
			perm = fi.Mode().Perm()
		}
		perms[name] = perm
		err := os.MkdirAll(filepath.Dir(pe.e.path(name)), 0o755)
		if err == nil {
			err = atomicfile.WriteFile(pe.e.path(name), pe.files[name], perm)
		}
		if err != nil {
			pe.undo(done, perms)
			return err
		}
		done = append(done, name)
	}
	return nil
}

func (pe *policyEdit) undo(written []string, perms map[string]fs.FileMode) {
	for _, name := range written {
		if o, ok := pe.orig[name]; ok {
			atomicfile.WriteFile(pe.e.path(name), o, perms[name])
		} else {
			os.Remove(pe.e.path(name))
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
		return fstest.MapFS{name: {Data: b, Mode: 0o644}}.Open(name)
	}
	return o.base.Open(name)
}

// policyFiles lists the *.hcl files of the policy directory.
func policyFiles(e *env) ([]string, error) {
	names, err := fs.Glob(os.DirFS(e.path(".")), "*.hcl")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no *.hcl files in the policy directory")
	}
	slices.Sort(names)
	return names, nil
}
