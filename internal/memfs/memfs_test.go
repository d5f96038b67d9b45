package memfs

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

func TestFS(t *testing.T) {
	m := FS{
		"keyform.hcl":      []byte("key \"a\" {}\n"),
		"keys/a.pub":       []byte("a-1:AAAA\n"),
		"keys/old/b.pub":   []byte("b-1:BBBB\n"),
		"targets.hcl":      nil,
		"z/deep/er/x.hcl":  []byte("x"),
		"keys.hcl.backup":  []byte("backup"),
		"keysafter/c.pub":  []byte("c"),
		"keys/old/c d.pub": []byte("spaces are data"),
	}
	// fstest.TestFS checks Open, ReadDir, ReadFile, Stat, Glob and WalkDir
	// against each other and against the file list.
	if err := fstest.TestFS(m, "keyform.hcl", "keys/a.pub", "keys/old/b.pub", "keys/old/c d.pub", "targets.hcl", "z/deep/er/x.hcl"); err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(m, "*.hcl")
	if err != nil || !slices.Equal(names, []string{"keyform.hcl", "targets.hcl"}) {
		t.Errorf("Glob(*.hcl) = %q, %v", names, err)
	}
	entries, err := m.ReadDir("keys")
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if err != nil || !slices.Equal(got, []string{"a.pub", "old"}) {
		t.Errorf("ReadDir(keys) = %q, %v; want the file and the implied directory, not keysafter or keys.hcl.backup", got, err)
	}
	b, err := m.ReadFile("keys/a.pub")
	if err != nil || string(b) != "a-1:AAAA\n" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	b[0] = 'X'
	if string(m["keys/a.pub"]) != "a-1:AAAA\n" {
		t.Error("modifying ReadFile's result changed the file system")
	}
	if fi, err := fs.Stat(m, "keys/a.pub"); err != nil || fi.Mode() != 0o444 || fi.Size() != 9 {
		t.Errorf("Stat = %v, %v; want a read-only file of 9 bytes", fi, err)
	}
	for _, name := range []string{"missing.hcl", "keys/missing.pub", "keyform.hcl/x"} {
		if _, err := m.Open(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q): %v, want not exist", name, err)
		}
	}
	for _, name := range []string{"/keyform.hcl", "../x", "keys/", ""} {
		if _, err := m.Open(name); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Open(%q): %v, want invalid", name, err)
		}
	}
	if _, err := m.ReadDir("keyform.hcl"); err == nil {
		t.Error("ReadDir of a file succeeded")
	}
	if _, err := m.ReadFile("keys"); err == nil {
		t.Error("ReadFile of a directory succeeded")
	}
}

func TestEmpty(t *testing.T) {
	if err := fstest.TestFS(FS{}); err != nil {
		t.Fatal(err)
	}
	if entries, err := fs.ReadDir(FS{}, "."); err != nil || len(entries) != 0 {
		t.Errorf("ReadDir(.) of an empty FS = %v, %v", entries, err)
	}
}
