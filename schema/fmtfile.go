package schema

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/internal/hint"
)

// FormatNames returns the policy files "keyform fmt" formats in dir:
// names when given, else every *.hcl file of dir; sorted either way. A
// directory without any is an error.
func FormatNames(dir string, names []string) ([]string, error) {
	if len(names) == 0 {
		var err error
		if names, err = fs.Glob(os.DirFS(dir), "*.hcl"); err != nil {
			return nil, err
		}
		if len(names) == 0 {
			abs, err := filepath.Abs(dir)
			if err != nil {
				return nil, err
			}
			return nil, hint.Wrap(fmt.Errorf("no *.hcl files in %s", abs), "run keyform init, or pass -C DIR")
		}
	}
	names = append([]string(nil), names...)
	sort.Strings(names)
	return names, nil
}

// FormattedFile is a policy file and its canonical layout (Format).
type FormattedFile struct {
	Path     string
	Src, Out []byte
	// Invalid holds the diagnostics of a file Format refuses (it does not
	// parse, or holds a secret); such a file is left alone.
	Invalid *Result
}

// FormatFile reads the policy file at path, named name in diagnostics,
// under Load's limits, and formats it.
func FormatFile(path, name string) (*FormattedFile, error) {
	src, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	out, res := Format(src, name)
	return &FormattedFile{Path: path, Src: src, Out: out, Invalid: res}, nil
}

// Changed reports whether formatting changes the file.
func (f *FormattedFile) Changed() bool { return f.Invalid == nil && !bytes.Equal(f.Src, f.Out) }

// Write replaces the file with its canonical layout, atomically, keeping
// its mode.
func (f *FormattedFile) Write() error {
	fi, err := os.Stat(f.Path)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(f.Path, f.Out, fi.Mode().Perm())
}
