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

	// shown marks settings read from "nix config show", whose items have
	// no position because Nix does not say which line set them.
	shown bool
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
	return (&evaluator{read: read, warn: true}).evaluate(files...)
}

func (e *evaluator) evaluate(files ...*File) (*Settings, error) {
	// Size the lists for the files' own values: a large nix.conf trusts
	// tens of thousands of keys, and growing the list by doubling was most
	// of what evaluating it allocated.
	n := 0
	for _, f := range files {
		for _, l := range f.Lines {
			if st, _ := settingOf(l); st == trustedKeys {
				n += len(l.Values)
			}
		}
	}
	e.s.TrustedPublicKeys = make([]Item, 0, n+len(trustedKeys.def))
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
	// warn fills in s.Warnings; Patch's own evaluations do not need them.
	warn bool
	// resetsOnly skips collecting values: resets needs only onReset.
	resetsOnly bool
	// onReset, when set, is called for every plain (replacing) line with
	// the index of the line of the outermost file that caused it (the
	// include line, for a reset inside an included file).
	onReset func(st *setting, line int)
	// beforeReset, when set, is called for every plain line with its
	// position, the name it uses and the values it is about to replace.
	beforeReset func(st *setting, pos Pos, name string, replaced []Item)
	// includes, when set, caches parsed included files by path, so that
	// evaluating a file several times (Patch does) parses each include once.
	includes map[string]*File
	line     int // index of the outermost file's line being evaluated
}

func (e *evaluator) file(f *File, stack []string) error {
	if err := f.Err(); err != nil {
		return err
	}
	top := len(stack) == 0
	stack = append(stack, filepath.Clean(f.Path))
	for i, l := range f.Lines {
		pos := Pos{File: f.Path, Line: i + 1}
		if top {
			e.line = i
		}
		if e.warn && i == 0 && strings.HasPrefix(l.Raw, "\uFEFF") && l.Kind == Setting {
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
				if e.beforeReset != nil {
					e.beforeReset(st, pos, l.Name, *list)
				}
				*list = (*list)[:0]
				if e.onReset != nil {
					e.onReset(st, e.line)
				}
			}
			if e.resetsOnly {
				continue
			}
			for _, v := range l.Values {
				*list = append(*list, Item{Value: v, Pos: pos})
				if e.warn && st == trustedKeys {
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
	g, cached := e.includes[p]
	if !cached {
		data, err := e.read(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && l.Name == "!include" {
				return nil
			}
			return &IncludeError{Pos: pos, Path: p, Err: err}
		}
		if g, err = Parse(p, data); err != nil {
			return err
		}
		if e.includes != nil {
			e.includes[p] = g
		}
	}
	return e.file(g, stack)
}

// resets returns, for each setting, the index of the last line of f that
// replaces it, directly or through an include, or -1. includes caches
// parsed included files (see evaluator).
func resets(f *File, read ReadFunc, includes map[string]*File) (map[*setting]int, error) {
	last := map[*setting]int{trustedKeys: -1, substituters: -1}
	e := &evaluator{read: read, includes: includes, resetsOnly: true}
	// A reset inside an include is attributed to the include line.
	e.onReset = func(st *setting, line int) { last[st] = line }
	if err := e.file(f, nil); err != nil {
		return nil, err
	}
	return last, nil
}
