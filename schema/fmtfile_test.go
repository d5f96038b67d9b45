package schema

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/hint"
)

// TestFormatFiles: which files fmt takes, that a changed file is rewritten
// keeping its mode, and that a broken one is reported and not changed.
func TestFormatFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := FormatNames(dir, nil); err == nil || !strings.HasPrefix(err.Error(), "no *.hcl files in ") || hint.Of(err) == "" {
		t.Errorf("empty dir: %v", err)
	}
	for name, data := range map[string]string{
		"b.hcl":     "catalog \"b\" {\n    }\n",
		"a.hcl":     "catalog \"a\" {}\n",
		"bad.hcl":   "catalog {\n",
		"notes.txt": "x",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	names, err := FormatNames(dir, nil)
	if want := []string{"a.hcl", "b.hcl", "bad.hcl"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("FormatNames = %q, %v; want %q", names, err, want)
	}
	args := []string{"z.hcl", "a.hcl"}
	if names, _ := FormatNames(dir, args); !slices.Equal(names, []string{"a.hcl", "z.hcl"}) || args[0] != "z.hcl" {
		t.Errorf("FormatNames(args) = %q, args now %q", names, args)
	}

	a, err := FormatFile(filepath.Join(dir, "a.hcl"), "a.hcl")
	if err != nil || a.Changed() || a.Invalid != nil {
		t.Errorf("a.hcl: %+v, %v; want unchanged", a, err)
	}
	b, err := FormatFile(filepath.Join(dir, "b.hcl"), "b.hcl")
	if err != nil || !b.Changed() {
		t.Fatalf("b.hcl: %+v, %v; want changed", b, err)
	}
	if err := b.Write(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "b.hcl"))
	data, _ := os.ReadFile(filepath.Join(dir, "b.hcl"))
	if string(data) != "catalog \"b\" {\n}\n" || fi.Mode().Perm() != 0o640 {
		t.Errorf("b.hcl written as %q, mode %04o", data, fi.Mode().Perm())
	}
	bad, err := FormatFile(filepath.Join(dir, "bad.hcl"), "bad.hcl")
	if err != nil || bad.Invalid == nil || !bad.Invalid.HasErrors() || bad.Changed() {
		t.Errorf("bad.hcl: %+v, %v; want invalid and unchanged", bad, err)
	}
	if _, err := FormatFile(filepath.Join(dir, "missing.hcl"), "missing.hcl"); err == nil {
		t.Error("FormatFile of a missing file succeeded")
	}
}
