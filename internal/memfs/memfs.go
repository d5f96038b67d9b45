// Package memfs is a small read-only file system in memory, for the places
// that hand a policy to schema.LoadFS without a directory on disk (a git
// revision, an edit not yet written, a generated test policy). It replaces
// testing/fstest.MapFS, which production code should not import.
package memfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// FS maps file paths (slash-separated and unrooted, as fs.ValidPath
// requires) to their contents. Directories are implied by the paths of the
// files in them, so an FS holds no empty directory but ".". Files have mode
// 0444 and no modification time.
type FS map[string][]byte

var errNotDir = errors.New("not a directory")

// Open implements fs.FS.
func (m FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := m[name]; ok {
		return &file{info: info{name: path.Base(name), size: int64(len(data)), mode: 0o444}, Reader: bytes.NewReader(data)}, nil
	}
	entries, ok := m.list(name)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &dir{info: dirInfo(name), entries: entries}, nil
}

// ReadFile implements fs.ReadFileFS; the caller may modify the result.
func (m FS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := m[name]; ok {
		return bytes.Clone(data), nil
	}
	if _, ok := m.list(name); ok {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: errors.New("is a directory")}
	}
	return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrNotExist}
}

// ReadDir implements fs.ReadDirFS (fs.Glob and fs.WalkDir use it): the
// directory's entries sorted by name.
func (m FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	if _, ok := m[name]; ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	entries, ok := m.list(name)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return entries, nil
}

// list returns the entries of the directory dir, sorted, and whether dir
// exists: "." always does, any other only when a file lies below it.
func (m FS) list(dir string) ([]fs.DirEntry, bool) {
	prefix := dir + "/"
	if dir == "." {
		prefix = ""
	}
	found := dir == "."
	seen := map[string]bool{}
	var entries []fs.DirEntry
	for name := range m {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		found = true
		child, _, isDir := strings.Cut(rest, "/")
		if seen[child] {
			continue
		}
		seen[child] = true
		if isDir {
			entries = append(entries, fs.FileInfoToDirEntry(dirInfo(child)))
		} else {
			entries = append(entries, fs.FileInfoToDirEntry(info{name: child, size: int64(len(m[name])), mode: 0o444}))
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, found
}

type info struct {
	name string
	size int64
	mode fs.FileMode
}

func dirInfo(name string) info { return info{name: path.Base(name), mode: fs.ModeDir | 0o555} }

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.size }
func (i info) Mode() fs.FileMode  { return i.mode }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.mode.IsDir() }
func (i info) Sys() any           { return nil }

// file is an open file; bytes.Reader gives it Read, ReadAt and Seek.
type file struct {
	info info
	*bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }

// dir is an open directory, read with ReadDir.
type dir struct {
	info    info
	entries []fs.DirEntry
	offset  int
}

func (d *dir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dir) Close() error               { return nil }

func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

// ReadDir implements fs.ReadDirFile.
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.offset:]
	if n <= 0 {
		d.offset = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.offset += len(rest)
	return rest, nil
}
