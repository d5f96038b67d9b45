package nixexpr_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
	"github.com/keyform/keyform/internal/nixtest"
	"github.com/keyform/keyform/render/nixexpr"
)

var stringVectors = []struct{ in, want string }{
	{"", `""`},
	{"cache.example.org-1:AAAA=", `"cache.example.org-1:AAAA="`},
	{`say "hi"`, `"say \"hi\""`},
	{`back\slash`, `"back\\slash"`},
	{"${builtins.abort 1}", `"\${builtins.abort 1}"`},
	{"$${x}", `"$\${x}"`},
	{"cost $5 {x}", `"cost $5 {x}"`},
	{"ends in $", `"ends in $"`},
	{"$", `"$"`},
	{"line\nbreak\r\ttab", `"line\nbreak\r\ttab"`},
	{`\${`, `"\\\${"`},
	{"*/ /* #", `"*/ /* #"`},
	{"''${x}", `"''\${x}"`},
	{"ünïcödé ✓", `"ünïcödé ✓"`},
}

func TestString(t *testing.T) {
	for _, v := range stringVectors {
		got, err := nixexpr.String(v.in)
		if err != nil || got != v.want {
			t.Errorf("String(%q) = %s, %v; want %s", v.in, got, err, v.want)
		}
		if back, ok := unquote(got); !ok || back != v.in {
			t.Errorf("unquote(String(%q)) = %q, %v", v.in, back, ok)
		}
	}
	if _, err := nixexpr.String("a\x00b"); err == nil {
		t.Errorf("String accepted a NUL byte")
	}
}

var commentVectors = []struct{ in, want string }{
	{"key acme_2026 (catalog acme)", "key acme_2026 (catalog acme)"},
	{"two\nlines", `two\nlines`},
	{"cr\rhere", `cr\rhere`},
	{"tab\there", `tab\there`},
	{"end */ comment", `end *\/ comment`},
	{"**/", `**\/`},
	{"nul\x00", `nul\x00`},
	{"bad utf8 \xff", `bad utf8 \xff`},
	{"line sep \u2028 para \u2029", `line sep \u2028 para \u2029`},
	{"esc \x1b[31m", `esc \x1b[31m`},
	{`quotes " and ${x} stay`, `quotes " and ${x} stay`},
	{"ünïcödé ✓", "ünïcödé ✓"},
}

func TestComment(t *testing.T) {
	for _, v := range commentVectors {
		if got := nixexpr.Comment(v.in); got != v.want {
			t.Errorf("Comment(%q) = %q, want %q", v.in, got, v.want)
		}
	}
}

// unquote reads a Nix double-quoted string literal the way Nix's lexer
// does, and reports whether lit is exactly one such literal. It lets the
// fuzz targets check String without running Nix; TestStringNix checks
// String against real Nix.
func unquote(lit string) (string, bool) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", false
	}
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '"':
			return "", false // the literal ended early
		case c == '\\':
			if i+1 == len(body) {
				return "", false // escapes the closing quote
			}
			i++
			switch body[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(body[i])
			}
		case c == '$' && i+1 < len(body) && body[i+1] == '{':
			return "", false // an interpolation
		case c == '\r' || c == '\n':
			return "", false // String writes these escaped
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func FuzzString(f *testing.F) {
	for _, v := range stringVectors {
		f.Add(v.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit, err := nixexpr.String(s)
		if strings.IndexByte(s, 0) >= 0 {
			if err == nil {
				t.Fatalf("String(%q) accepted a NUL byte", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("String(%q): %v", s, err)
		}
		back, ok := unquote(lit)
		if !ok || back != s {
			t.Fatalf("String(%q) = %s, which reads back as %q (ok=%v)", s, lit, back, ok)
		}
	})
}

func FuzzComment(f *testing.F) {
	for _, v := range commentVectors {
		f.Add(v.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := nixexpr.Comment(s)
		if !utf8.ValidString(c) {
			t.Fatalf("Comment(%q) = %q is not valid UTF-8", s, c)
		}
		for _, r := range c {
			if !unicode.IsPrint(r) {
				t.Fatalf("Comment(%q) = %q holds %U", s, c, r)
			}
		}
		if strings.Contains(c, "*/") {
			t.Fatalf("Comment(%q) = %q holds */", s, c)
		}
		if isPrintable(s) && !strings.Contains(s, "*/") && c != s {
			t.Fatalf("Comment changed printable text %q to %q", s, c)
		}
	})
}

func isPrintable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// TestStringNix has real Nix read back what String writes, for the vectors
// and for random strings over an alphabet rich in Nix syntax.
func TestStringNix(t *testing.T) {
	var ins []string
	for _, v := range stringVectors {
		ins = append(ins, v.in)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"$", "{", "}", "\\", `"`, "'", "''", "\n", "\r", "\t", "#", "/*", "*/", "a", " ", "é", "${", "\\$"}
	for range 500 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		ins = append(ins, b.String())
	}
	lits := make([]string, len(ins))
	for i, s := range ins {
		var err error
		if lits[i], err = nixexpr.String(s); err != nil {
			t.Fatal(err)
		}
	}
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
		got := n.EvalStrings(t, lits)
		if len(got) != len(ins) {
			n.Fatalf(t, "nix read %d strings, want %d", len(got), len(ins))
		}
		for i := range ins {
			if got[i] != ins[i] {
				n.Errorf(t, "String(%q) = %s; nix reads %q", ins[i], lits[i], got[i])
			}
		}
	})
}
