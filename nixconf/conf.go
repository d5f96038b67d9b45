package nixconf

import (
	"fmt"
	"strings"
)

// A File is a parsed nix.conf: every line keeps its exact bytes, so that
// String of a file nothing changed is the input, byte for byte.
type File struct {
	// Path names the file in messages and is the base for relative
	// include paths, as in Nix.
	Path  string
	Lines []*Line
}

// LineKind says what Nix makes of a line.
type LineKind int

const (
	// Blank is an empty, whitespace-only or comment-only line.
	Blank LineKind = iota
	// Setting is "NAME = VALUE...".
	Setting
	// Include is "include PATH" or "!include PATH".
	Include
	// Illegal is a line Nix rejects ("illegal configuration line").
	Illegal
)

func (k LineKind) String() string {
	switch k {
	case Blank:
		return "blank"
	case Setting:
		return "setting"
	case Include:
		return "include"
	case Illegal:
		return "illegal"
	}
	return fmt.Sprintf("LineKind(%d)", int(k))
}

// A Line is one "\n"-terminated line of a nix.conf file.
type Line struct {
	// Raw is the line exactly as in the file, including any "\r" and the
	// final "\n" (absent only on a last line without one).
	Raw  string
	Kind LineKind
	// Name is the setting name, or "include" / "!include".
	Name string
	// Values are the words after "=" (settings) or the one path (includes).
	Values []string
	// Reason explains an Illegal line.
	Reason string

	// toks are the byte ranges of all words in Raw, before any comment.
	toks [][2]int
	// parsed is set by the parser, which fills in setting and extra (see
	// settingOf) once: a patch asks for them on every line several times.
	parsed  bool
	setting *setting
	extra   bool
}

// Text is the line without its line ending.
func (l *Line) Text() string {
	return strings.TrimSuffix(strings.TrimSuffix(l.Raw, "\n"), "\r")
}

// Comment is the line's comment, from "#" to the end of the line (without
// the line ending), or "".
func (l *Line) Comment() string {
	t := l.Text()
	if i := strings.IndexByte(t, '#'); i >= 0 {
		return t[i:]
	}
	return ""
}

// String returns the file's bytes.
func (f *File) String() string {
	var b strings.Builder
	b.Grow(f.size())
	for _, l := range f.Lines {
		b.WriteString(l.Raw)
	}
	return b.String()
}

// Bytes returns the file's bytes.
func (f *File) Bytes() []byte {
	b := make([]byte, 0, f.size())
	for _, l := range f.Lines {
		b = append(b, l.Raw...)
	}
	return b
}

func (f *File) size() int {
	n := 0
	for _, l := range f.Lines {
		n += len(l.Raw)
	}
	return n
}

// Clone returns a copy whose lines can be changed without changing f's, so
// a patch never changes its input. The package never writes into a line's
// Values or token slices (an edited line is parsed anew), so the copies
// share them; callers must not write into them either.
func (f *File) Clone() *File {
	g := &File{Path: f.Path, Lines: make([]*Line, len(f.Lines))}
	copies := make([]Line, len(f.Lines))
	for i, l := range f.Lines {
		copies[i] = *l
		g.Lines[i] = &copies[i]
	}
	return g
}

// Pos is a line in a file, for messages: "PATH:LINE".
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

func (p Pos) String() string {
	if p.File == "" {
		return "Nix's default"
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// eol is the line ending new lines get: the one the file already uses.
func (f *File) eol() string {
	for _, l := range f.Lines {
		if strings.HasSuffix(l.Raw, "\r\n") {
			return "\r\n"
		}
		if strings.HasSuffix(l.Raw, "\n") {
			return "\n"
		}
	}
	return "\n"
}

// A setting is one of the list settings keyform manages, with the names
// Nix accepts for it. Nix resolves "extra-" + any of these as an append.
type setting struct {
	name    string
	aliases []string
	// def is Nix's default value, in effect when nothing sets it.
	def []string
}

// NixOSCacheKey is the key Nix trusts when nothing sets
// trusted-public-keys.
const NixOSCacheKey = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="

var (
	trustedKeys  = &setting{"trusted-public-keys", []string{"binary-cache-public-keys"}, []string{NixOSCacheKey}}
	substituters = &setting{"substituters", []string{"binary-caches"}, []string{"https://cache.nixos.org/"}}
	settings     = []*setting{trustedKeys, substituters}
)

// match reports whether a setting line named name sets s, and whether it
// appends ("extra-") rather than replaces. Like Nix's Config::set, an exact
// name or alias wins; only then is one "extra-" prefix stripped.
func (s *setting) match(name string) (ok, extra bool) {
	if s.is(name) {
		return true, false
	}
	if rest, found := strings.CutPrefix(name, "extra-"); found && s.is(rest) {
		return true, true
	}
	return false, false
}

func (s *setting) is(name string) bool {
	if name == s.name {
		return true
	}
	for _, a := range s.aliases {
		if name == a {
			return true
		}
	}
	return false
}

// settingOf returns the managed setting a line sets, or nil.
func settingOf(l *Line) (s *setting, extra bool) {
	if l.parsed {
		return l.setting, l.extra
	}
	return matchSetting(l)
}

func matchSetting(l *Line) (s *setting, extra bool) {
	if l.Kind != Setting {
		return nil, false
	}
	for _, s := range settings {
		if ok, extra := s.match(l.Name); ok {
			return s, extra
		}
	}
	return nil, false
}
