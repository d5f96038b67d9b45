package nixconf

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// ReadFunc reads an included file. It returns an error wrapping
// fs.ErrNotExist when the file does not exist, which "!include" tolerates.
// The package never touches the disk itself: callers pass os.ReadFile, or a
// map in tests.
type ReadFunc func(path string) ([]byte, error)

// Item is one word of an effective list setting and the line that added it.
type Item struct {
	Value string `json:"value"`
	Pos   Pos    `json:"pos"`
}

// Settings are the effective values of the list settings keyform manages,
// in Nix's order, duplicates kept (as "nix show-config" prints them).
type Settings struct {
	TrustedPublicKeys []Item
	Substituters      []Item
	// Warnings are things Nix silently does differently from what the file
	// seems to say.
	Warnings []string
}

// Keys returns the effective trusted-public-keys values.
func (s *Settings) Keys() []string { return values(s.TrustedPublicKeys) }

// SubstituterURLs returns the effective substituters values.
func (s *Settings) SubstituterURLs() []string { return values(s.Substituters) }

func values(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Value
	}
	return out
}

func (s *Settings) list(st *setting) *[]Item {
	if st == trustedKeys {
		return &s.TrustedPublicKeys
	}
	return &s.Substituters
}

// IncludeError is an include Nix cannot follow: a missing file named by
// "include" (not "!include"), a file that cannot be read, or a cycle.
type IncludeError struct {
	Pos  Pos
	Path string
	Err  error
}

func (e *IncludeError) Error() string {
	if errors.Is(e.Err, fs.ErrNotExist) {
		// Nix: "file '%1%' included from '%2%' not found".
		return fmt.Sprintf("%s: file '%s' included from '%s' not found", e.Pos, e.Path, e.Pos.File)
	}
	return fmt.Sprintf("%s: include %s: %v", e.Pos, e.Path, e.Err)
}

func (e *IncludeError) Unwrap() error { return e.Err }

var errIncludeCycle = errors.New("include cycle (Nix would recurse until it crashes)")

// maxIncludeDepth bounds include chains; Nix has no bound and overflows its
// stack on a cycle.
const maxIncludeDepth = 32

// Evaluate computes what Nix would make of the trusted-public-keys and
// substituters settings after loading files in order (as Nix loads
// nix.conf, then the user's files, then NIX_CONFIG): it starts from Nix's
// defaults; a plain "NAME = ..." line (or an alias) replaces everything
// before it, "extra-NAME = ..." appends; an include is read in place. With
// read nil, includes are skipped.
//
// "In place" is what Nix 2.8 and current Nix do. Nix 2.16 up to the fix
// for NixOS/nix#8719 applied an included file before the including file's
// own lines; "keyform verify" shows what such a Nix really does.
func Evaluate(read ReadFunc, files ...*File) (*Settings, error) {
	e := &evaluator{read: read}
	for _, st := range settings {
		for _, v := range st.def {
			*e.s.list(st) = append(*e.s.list(st), Item{Value: v})
		}
	}
	for _, f := range files {
		if err := e.file(f, nil); err != nil {
			return nil, err
		}
	}
	return &e.s, nil
}

type evaluator struct {
	read ReadFunc
	s    Settings
	// onReset, when set, is called for every plain (replacing) line.
	onReset func(st *setting)
}

func (e *evaluator) file(f *File, stack []string) error {
	if err := f.Err(); err != nil {
		return err
	}
	stack = append(stack, filepath.Clean(f.Path))
	for i, l := range f.Lines {
		pos := Pos{File: f.Path, Line: i + 1}
		if i == 0 && strings.HasPrefix(l.Raw, "\uFEFF") && l.Kind == Setting {
			if st, _ := settingOf(&Line{Kind: Setting, Name: strings.TrimPrefix(l.Name, "\uFEFF")}); st != nil {
				e.s.Warnings = append(e.s.Warnings, fmt.Sprintf("%s: the file starts with a UTF-8 byte order mark, so Nix reads the setting name as \"\\ufeff%s\" and ignores the line; save the file without a BOM", pos, strings.TrimPrefix(l.Name, "\uFEFF")))
			}
		}
		switch l.Kind {
		case Setting:
			st, extra := settingOf(l)
			if st == nil {
				continue
			}
			list := e.s.list(st)
			if !extra {
				*list = nil
				if e.onReset != nil {
					e.onReset(st)
				}
			}
			for _, v := range l.Values {
				*list = append(*list, Item{Value: v, Pos: pos})
				if st == trustedKeys {
					if why := NixKeyProblem(v); why != "" {
						e.s.Warnings = append(e.s.Warnings, fmt.Sprintf("%s: %q is not a public key Nix can use: %s; while it is trusted, Nix fails every signature check", pos, v, why))
					}
				}
			}
		case Include:
			if e.read == nil {
				continue
			}
			if err := e.include(f, l, pos, stack); err != nil {
				return err
			}
		}
	}
	return nil
}

// IncludePath resolves an include line's path as Nix does: relative to the
// directory of the including file.
func IncludePath(from, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(filepath.Dir(from), p)
}

func (e *evaluator) include(f *File, l *Line, pos Pos, stack []string) error {
	p := IncludePath(f.Path, l.Values[0])
	for _, s := range stack {
		if s == p {
			return &IncludeError{Pos: pos, Path: p, Err: errIncludeCycle}
		}
	}
	if len(stack) >= maxIncludeDepth {
		return &IncludeError{Pos: pos, Path: p, Err: errors.New("includes nested too deeply")}
	}
	data, err := e.read(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && l.Name == "!include" {
			return nil
		}
		return &IncludeError{Pos: pos, Path: p, Err: err}
	}
	g, err := Parse(p, data)
	if err != nil {
		return err
	}
	return e.file(g, stack)
}

// resets returns, for each setting, the index of the last line of f that
// replaces it, directly or through an include, or -1.
func resets(f *File, read ReadFunc) (map[*setting]int, error) {
	last := map[*setting]int{trustedKeys: -1, substituters: -1}
	e := &evaluator{read: read}
	cur := 0
	e.onReset = func(st *setting) { last[st] = cur }
	for i, l := range f.Lines {
		cur = i
		one := &File{Path: f.Path, Lines: []*Line{l}}
		// Evaluate line by line so that a reset inside an include is
		// attributed to the include line. A one-line File keeps the
		// include's base directory.
		if err := e.file(one, nil); err != nil {
			var se *SyntaxError
			if errors.As(err, &se) && se.Path == f.Path {
				se.Line = i + 1
			}
			var ie *IncludeError
			if errors.As(err, &ie) && ie.Pos.File == f.Path {
				ie.Pos.Line = i + 1
			}
			return nil, err
		}
	}
	return last, nil
}
