// Package nixexpr writes text into Nix expressions and comments safely. The
// policy is validated before it is rendered, so these functions should never
// meet a dangerous character; they escape anyway, as defence in depth.
package nixexpr

import (
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"
)

// String returns s as a double-quoted Nix string literal that evaluates to
// exactly s: `\`, `"` and `${` are escaped, and newline, carriage return and
// tab are written as \n, \r and \t (a raw CR would be read back as LF). Nix
// strings cannot hold a NUL byte, so a string with one is an error.
func String(s string) (string, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return "", fmt.Errorf("%q has a NUL byte at offset %d, which a Nix string cannot hold", s, i)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '$':
			// Only "${" starts an interpolation; a lone "$" is literal.
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// Comment returns s made safe to follow "#" in a Nix file or a nix.conf:
// it can neither end the line nor the comment. Every character that is not
// printable (newlines, other control characters, Unicode line separators,
// invalid UTF-8) is written as a Go-style escape such as \n or \u2028, and
// "*/" becomes "*\/" so that the text is also safe inside /* */.
func Comment(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '*' && strings.HasPrefix(s[i+size:], "/"):
			b.WriteString(`*\`)
		case !unicode.IsPrint(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func isPlain(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return !strings.Contains(s, "*/")
}

// Funcs are the template functions for .nix templates: {{nixstr .}} writes a
// Nix string literal, {{comment .}} comment-safe text.
var Funcs = template.FuncMap{
	"nixstr":  String,
	"comment": Comment,
}
