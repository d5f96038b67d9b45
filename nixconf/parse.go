package nixconf

import (
	"bytes"
	"fmt"
	"strings"
)

// SyntaxError is a line Nix refuses to load. Nix stops at the first one
// and loads nothing, so a file with one is not usable nix.conf.
type SyntaxError struct {
	Path string
	Line int
	// Text is the line as Nix quotes it: without its comment and line ending.
	Text   string
	Reason string
	// Shell says the line is a shell command ("export PATH=..."): the file
	// is more likely a shell script than a broken nix.conf.
	Shell bool
}

func (e *SyntaxError) Error() string {
	// Nix 2.8 says "illegal configuration line 'a=b' in '/etc/nix/nix.conf'"
	// (newer versions "syntax error in configuration line"); keyform leads
	// with file:line and adds why.
	return fmt.Sprintf("%s:%d: illegal configuration line '%s': %s", e.Path, e.Line, e.Text, e.Reason)
}

// Parse reads nix.conf text the way Nix's parser (applyConfig in
// src/libutil/config.cc) does. It always returns a File whose String is
// data; the error is the first *SyntaxError, if any line is illegal.
// Includes are not followed here: see Evaluate.
func Parse(path string, data []byte) (*File, error) {
	// The lines live in one slice: a large file has tens of thousands.
	// So do their words: a's slices grow as lines take capped pieces.
	lines := make([]Line, 0, bytes.Count(data, []byte{'\n'})+1)
	f := &File{Path: path, Lines: make([]*Line, 0, cap(lines))}
	var a arena
	s := string(data)
	for len(s) > 0 {
		n := strings.IndexByte(s, '\n') + 1
		if n == 0 {
			n = len(s)
		}
		lines = append(lines, Line{})
		l := &lines[len(lines)-1]
		parseLineInto(l, s[:n], &a)
		f.Lines = append(f.Lines, l)
		s = s[n:]
	}
	return f, f.Err()
}

// arena holds the token ranges and words of many lines in blocks. Each
// line gets a piece with its capacity capped at its length, so appending to
// one never writes into another's.
type arena struct {
	toks  [][2]int
	words []string
	// scratch collects one line's tokens before they are copied in.
	scratchToks  [][2]int
	scratchWords []string
}

func (a *arena) take() ([][2]int, []string) {
	n := len(a.scratchToks)
	if cap(a.toks)-len(a.toks) < n {
		// Blocks grow from 64 to 4096 entries, so a small file stays small.
		size := max(n, min(4096, max(64, 2*cap(a.toks))))
		a.toks = make([][2]int, 0, size)
		a.words = make([]string, 0, size)
	}
	a.toks = append(a.toks, a.scratchToks...)
	a.words = append(a.words, a.scratchWords...)
	t, w := len(a.toks), len(a.words)
	return a.toks[t-n : t : t], a.words[w-n : w : w]
}

// Err returns the first illegal line as a *SyntaxError, or nil.
func (f *File) Err() error {
	if errs := f.Errors(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Errors returns every illegal line, where Nix would report the first.
func (f *File) Errors() []*SyntaxError {
	var errs []*SyntaxError
	for i, l := range f.Lines {
		if l.Kind == Illegal {
			errs = append(errs, &SyntaxError{Path: f.Path, Line: i + 1, Text: l.code(), Reason: l.Reason, Shell: l.Reason == shellReason})
		}
	}
	return errs
}

// code is the line up to its comment, as Nix quotes it in errors.
func (l *Line) code() string {
	t := strings.TrimSuffix(l.Raw, "\n")
	if i := strings.IndexByte(t, '#'); i >= 0 {
		t = t[:i]
	}
	return t
}

// isSep reports Nix's word separators (tokenizeString's default " \t\n\r").
// Other white space, such as a form feed or a non-breaking space, is part of
// a word.
func isSep(c byte) bool { return seps[c] }

var seps = [256]bool{' ': true, '\t': true, '\r': true, '\n': true}

// parseLine classifies one line, raw including its "\n".
func parseLine(raw string) *Line {
	l := &Line{}
	parseLineInto(l, raw, &arena{})
	return l
}

// parseLineInto is parseLine into a zero Line, taking its slices from a.
func parseLineInto(l *Line, raw string, a *arena) {
	l.Raw = raw
	code := l.code()
	a.scratchToks, a.scratchWords = a.scratchToks[:0], a.scratchWords[:0]
	for i := 0; i < len(code); {
		if isSep(code[i]) {
			i++
			continue
		}
		j := i
		for j < len(code) && !isSep(code[j]) {
			j++
		}
		a.scratchToks = append(a.scratchToks, [2]int{i, j})
		a.scratchWords = append(a.scratchWords, raw[i:j])
		i = j
	}
	var words []string
	l.toks, words = a.take()
	switch {
	case len(words) == 0:
		l.Kind = Blank
	case len(words) == 1:
		l.Kind = Illegal
		l.Reason = illegalReason(words, words[0])
	case words[0] == "include" || words[0] == "!include":
		if len(words) != 2 {
			l.Kind = Illegal
			l.Reason = fmt.Sprintf("%s takes exactly one path", words[0])
			break
		}
		l.Kind, l.Name, l.Values = Include, words[0], words[1:2]
	case words[1] != "=":
		l.Kind = Illegal
		l.Reason = illegalReason(words, words[0]+" "+words[1])
	default:
		l.Kind, l.Name, l.Values = Setting, words[0], words[2:]
	}
	l.setting, l.extra = matchSetting(l)
	l.parsed = true
}

// shellReason explains a shell command found in nix.conf.
const shellReason = "this is a shell command, not a nix.conf setting"

// illegalReason explains an illegal line whose words are words; start is
// the part that shows the problem.
func illegalReason(words []string, start string) string {
	if looksLikeShell(words) {
		return shellReason
	}
	if i := strings.IndexByte(start, '='); i >= 0 {
		return fmt.Sprintf("Nix needs white space on both sides of '=' (write '%s = ...')", strings.TrimSpace(start[:i]))
	}
	return "a setting is NAME = VALUE, with white space on both sides of '='"
}

// shellWords start shell commands that people put in the wrong file
// (a profile instead of nix.conf); nix.conf has no setting of these names.
var shellWords = map[string]bool{
	"export": true, "unset": true, "alias": true, "source": true, ".": true,
	"set": true, "setenv": true, "eval": true, "exec": true, "echo": true,
	"if": true, "then": true, "else": true, "elif": true, "fi": true,
	"for": true, "while": true, "do": true, "done": true, "case": true, "esac": true,
	"function": true, "local": true, "declare": true, "readonly": true, "typeset": true,
	"[": true, "[[": true, "test": true, "cd": true, "umask": true, "ulimit": true,
	"trap": true, "return": true, "exit": true, "fish_add_path": true,
}

// looksLikeShell reports whether an illegal line reads as a shell command:
// a shell keyword or builtin first, an environment variable assignment
// ("PATH=..."; nix.conf settings are lower case), or a shell expansion.
func looksLikeShell(words []string) bool {
	if shellWords[words[0]] {
		return true
	}
	if name, _, ok := strings.Cut(words[0], "="); ok && isEnvName(name) {
		return true
	}
	for _, w := range words {
		if strings.Contains(w, "$(") || strings.Contains(w, "${") || strings.Contains(w, "`") {
			return true
		}
	}
	return false
}

// isEnvName reports whether s is an upper-case environment variable name
// such as PATH or NIX_PATH.
func isEnvName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
