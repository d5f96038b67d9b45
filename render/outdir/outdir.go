// Package outdir compares rendered files with the files under the policy
// directory and writes them: what "keyform render" and "keyform check" do
// to the file system. A file keyform did not generate is never
// overwritten, and generated files that nothing renders any more are
// found as stale.
package outdir

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
	"strings"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/render"
)

// Status says what writing a rendered file does to the file system.
type Status string

const (
	Created   Status = "created"
	Updated   Status = "updated"
	Unchanged Status = "unchanged"
	// Foreign is a file in the way that keyform did not generate; it is
	// never overwritten.
	Foreign Status = "foreign"
	// StaleFile is a generated file that no target renders any more
	// (Drift).
	StaleFile Status = "stale"
)

// Entry is a rendered file compared with the file it replaces.
type Entry struct {
	render.File
	Status Status
	// Old is the file on disk, nil when there is none.
	Old  []byte
	perm fs.FileMode
}

// Compare reads the file each rendered file replaces. Paths are relative
// to root (the policy directory, "" for the working directory) unless
// absolute. A path that exists but is not a regular file is an error.
func Compare(root string, files []render.File) ([]Entry, error) {
	entries := make([]Entry, len(files))
	for i, f := range files {
		e := Entry{File: f, perm: 0o644}
		name := filepath.FromSlash(f.Path)
		fi, err := os.Lstat(join(root, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			e.Status = Created
			entries[i] = e
			continue
		case err != nil:
			return nil, err
		case !fi.Mode().IsRegular():
			return nil, fmt.Errorf("%s exists and is not a regular file; keyform writes the target's file there", name)
		}
		if e.Old, err = os.ReadFile(join(root, name)); err != nil {
			return nil, err
		}
		e.perm = fi.Mode().Perm()
		switch {
		case bytes.Equal(e.Old, f.Content):
			e.Status = Unchanged
		case len(e.Old) > 0 && !render.IsGenerated(e.Old):
			// An empty file is replaced: it holds nothing to lose, and a
			// crash right after an unsynced write can leave one (below).
			e.Status = Foreign
		default:
			e.Status = Updated
		}
		entries[i] = e
	}
	return entries, nil
}

// CheckForeign refuses entries with a Foreign file in the way, naming them
// all, before anything is written.
func CheckForeign(entries []Entry) error {
	var foreign []string
	for _, e := range entries {
		if e.Status == Foreign {
			foreign = append(foreign, e.Path)
		}
	}
	if len(foreign) == 0 {
		return nil
	}
	them := "them"
	if len(foreign) == 1 {
		them = "it"
	}
	return hint.Wrap(fmt.Errorf("not overwriting %s: keyform did not generate %s (the first line does not start with %q)", strings.Join(foreign, ", "), them, render.Marker),
		"move the file away, or give the target another output")
}

// Write writes a Created or Updated entry under root, keeping an existing
// file's mode; an Unchanged one is left alone, and a Foreign one refused.
func (e Entry) Write(root string) error {
	switch e.Status {
	case Unchanged:
		return nil
	case Foreign:
		return fmt.Errorf("not overwriting %s: keyform did not generate it", e.Path)
	}
	name := join(root, filepath.FromSlash(e.Path))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	// No fsync: rendered files are a pure function of the policy, which
	// git keeps. The rename keeps each replacement atomic for readers; if
	// the machine crashes before the kernel writes the data back, a file
	// may be old or empty, which "keyform check" reports and rendering
	// again repairs. Two fsyncs per file were most of the time of
	// rendering a large policy.
	return atomicfile.Write(name, e.Content, atomicfile.Options{Perm: e.perm, NoSync: true})
}

// Stale lists the regular files under outDir (relative to root unless
// absolute) that start with render.Marker but that no file of files
// renders, sorted, as slash-separated paths like render.File.Path. A
// missing outDir has none.
func Stale(root, outDir string, files []render.File) ([]string, error) {
	current := map[string]bool{}
	for _, f := range files {
		current[f.Path] = true
	}
	var stale []string
	top := join(root, filepath.FromSlash(outDir))
	err := filepath.WalkDir(top, func(name string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && name == top {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return fs.SkipDir
		}
		rel, err := filepath.Rel(top, name)
		if err != nil {
			return err
		}
		slash := filepath.ToSlash(filepath.Join(filepath.FromSlash(outDir), rel))
		if !d.Type().IsRegular() || current[slash] {
			return nil
		}
		gen, err := startsWithMarker(name)
		if err != nil {
			return err
		}
		if gen {
			stale = append(stale, slash)
		}
		return nil
	})
	slices.Sort(stale)
	return stale, err
}

// Drift is how the output directory differs from files, what "keyform
// check" reports and "keyform plan" warns about: the rendered files that
// are missing (Created), out of date (Updated) or blocked by a file
// keyform did not generate (Foreign), in the order of files, then the
// generated files that no file renders any more (StaleFile, with Old set
// and no Content), sorted. None means render would change nothing.
func Drift(root, outDir string, files []render.File) ([]Entry, error) {
	stale, err := Stale(root, outDir, files)
	if err != nil {
		return nil, err
	}
	entries, err := Compare(root, files)
	if err != nil {
		return nil, err
	}
	var drift []Entry
	for _, e := range entries {
		if e.Status != Unchanged {
			drift = append(drift, e)
		}
	}
	for _, name := range stale {
		old, err := os.ReadFile(join(root, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		drift = append(drift, Entry{File: render.File{Path: name}, Status: StaleFile, Old: old})
	}
	return drift, nil
}

func startsWithMarker(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, len(render.Marker))
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	return render.IsGenerated(buf[:n]), nil
}

// Prune removes a stale file (as Stale names it), then its directories
// while they are empty, stopping at outDir itself.
func Prune(root, outDir, name string) error {
	if err := os.Remove(join(root, filepath.FromSlash(name))); err != nil {
		return err
	}
	outDir = filepath.ToSlash(outDir)
	for dir := path.Dir(name); dir != outDir && dir != "." && dir != "/" && strings.HasPrefix(dir, outDir+"/"); dir = path.Dir(dir) {
		if os.Remove(join(root, filepath.FromSlash(dir))) != nil {
			break
		}
	}
	return nil
}

func join(root, name string) string {
	if root == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(root, name)
}
