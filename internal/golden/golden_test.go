package golden

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const importPath = `"github.com/keyform/keyform/internal/golden"`

// A test package that does not import golden rejects -update, and
// "go test ./... -update" fails on it.
func TestEveryTestPackageAcceptsUpdate(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not at %s: %v", root, err)
	}
	imports := map[string]bool{} // directory -> some test file imports golden
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(path)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		imports[dir] = imports[dir] || strings.Contains(string(src), importPath)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 2 {
		t.Fatalf("found test files in %d directories; is the walk in the right place?", len(imports))
	}
	for dir, ok := range imports {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		// This package defines the flag.
		if !ok && filepath.ToSlash(rel) != "internal/golden" {
			t.Errorf("the tests in %s do not import %s, so \"go test ./... -update\" fails there; add _ %s to one of them", rel, importPath, importPath)
		}
	}
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	*Update = true
	defer func() { *Update = false }()
	File(t, path, []byte("one\n"))
	if b, err := os.ReadFile(path); err != nil || string(b) != "one\n" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}
	*Update = false
	File(t, path, []byte("one\n"))
	ft := &fakeT{T: t}
	File(ft, path, []byte("two\n"))
	if !ft.failed {
		t.Error("a differing golden passed")
	}
}

type fakeT struct {
	*testing.T
	failed bool
}

func (f *fakeT) Errorf(string, ...any) { f.failed = true }
