package nixconf

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

func TestParseLines(t *testing.T) {
	tests := []struct {
		in     string
		kind   LineKind
		name   string
		values []string
	}{
		{"", Blank, "", nil},
		{"   \t\r\n", Blank, "", nil},
		{"# a comment = x\n", Blank, "", nil},
		{"a = b\n", Setting, "a", []string{"b"}},
		{"a =\n", Setting, "a", []string{}},
		{"a = \n", Setting, "a", []string{}},
		{"\ta\t=\tb  c\r\n", Setting, "a", []string{"b", "c"}},
		{"a = b#c d\n", Setting, "a", []string{"b"}},
		{"a = b # c\n", Setting, "a", []string{"b"}},
		{"a = b\fc\n", Setting, "a", []string{"b\fc"}}, // only space, tab, CR, LF separate words
		{"a = b\rc\n", Setting, "a", []string{"b", "c"}},
		{"= = x\n", Setting, "=", []string{"x"}},
		{"include x.conf\n", Include, "include", []string{"x.conf"}},
		{"!include x.conf # why\n", Include, "!include", []string{"x.conf"}},
		{"a=b\n", Illegal, "", nil},
		{"a= b\n", Illegal, "", nil},
		{"a =b\n", Illegal, "", nil},
		{"a\n", Illegal, "", nil},
		{"include\n", Illegal, "", nil},
		{"include a b\n", Illegal, "", nil},
		{"include = a\n", Illegal, "", nil},
		{"a b = c\n", Illegal, "", nil},
		{"\ufeffa = b\n", Setting, "\ufeffa", []string{"b"}},
	}
	for _, tt := range tests {
		l := parseLine(tt.in)
		if l.Kind != tt.kind || l.Name != tt.name || (tt.values != nil && !slices.Equal(l.Values, tt.values)) {
			t.Errorf("parseLine(%q) = %v %q %q; want %v %q %q", tt.in, l.Kind, l.Name, l.Values, tt.kind, tt.name, tt.values)
		}
		if l.Kind == Illegal && l.Reason == "" {
			t.Errorf("parseLine(%q): illegal without a reason", tt.in)
		}
	}
}

func TestParseError(t *testing.T) {
	_, err := Parse("/etc/nix/nix.conf", []byte("max-jobs = 1\r\n\r\nsandbox=false # no\r\nfoo\n"))
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SyntaxError", err)
	}
	if se.Line != 3 || se.Text != "sandbox=false " {
		t.Errorf("got line %d text %q", se.Line, se.Text)
	}
	const want = "/etc/nix/nix.conf:3: illegal configuration line 'sandbox=false ': Nix needs white space on both sides of '=' (write 'sandbox = ...')"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	f, _ := Parse("x", []byte("a\nb\n"))
	if n := len(f.Errors()); n != 2 {
		t.Errorf("Errors() = %d, want 2", n)
	}
}

// TestParseShellLine: a shell command in nix.conf is called one, not a
// nix.conf line missing its spaces; nix.conf mistakes keep that advice.
func TestParseShellLine(t *testing.T) {
	for _, tc := range []struct {
		line  string
		shell bool
	}{
		{"export PATH=$HOME/nix/bin:$PATH", true},
		{"PATH=$HOME/nix/bin:$PATH", true},
		{"NIX_PATH=nixpkgs=/x", true},
		{". /etc/profile.d/nix.sh", true},
		{"if [ -e ~/.nix-profile ]; then", true},
		{"substituters=$(cat list)", true},
		{"max-jobs=4", false},
		{"sandbox =false", false},
		{"substituters", false},
	} {
		_, err := Parse("/etc/nix/nix.conf", []byte(tc.line+"\n"))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("%q: err = %v, want *SyntaxError", tc.line, err)
		}
		if se.Shell != tc.shell || (se.Reason == shellReason) != tc.shell || tc.shell && strings.Contains(se.Reason, "write '") {
			t.Errorf("%q: shell %v, reason %q; want shell %v", tc.line, se.Shell, se.Reason, tc.shell)
		}
	}
}

func TestLineEdits(t *testing.T) {
	tests := []struct {
		in, drop string
		add      []string
		want     string
	}{
		{"k = a b c\n", "b", nil, "k = a c\n"},
		{"k = a\tb  c # x\r\n", "a", nil, "k = b  c # x\r\n"},
		{"k = a b c\n", "c", nil, "k = a b\n"},
		{"k = a # x\n", "a", nil, "k = # x\n"},
		{"k = a\n", "a", nil, "k =\n"},
		{"k = a", "", []string{"b", "c"}, "k = a b c"},
		{"k =\n", "", []string{"b"}, "k = b\n"},
		{"k =#x\n", "", []string{"b"}, "k = b #x\n"},
		{"k = a  # x\r\n", "", []string{"b"}, "k = a b  # x\r\n"},
	}
	for _, tt := range tests {
		l := parseLine(tt.in)
		if tt.drop != "" {
			l.removeValues(func(v string) bool { return v == tt.drop })
		}
		if tt.add != nil {
			l.appendValues(tt.add)
		}
		if l.Raw != tt.want || l.Kind != Setting {
			t.Errorf("%q: got %q (%v), want %q", tt.in, l.Raw, l.Kind, tt.want)
		}
	}
}

// nixReference is a direct transcription of Nix 2.8's applyConfig (without
// includes), written independently of Parse to test it against: the
// (name, value) pairs Nix would set, or an error.
func nixReference(contents string) ([][2]string, error) {
	var out [][2]string
	pos := 0
	for pos < len(contents) {
		start := pos
		for pos < len(contents) && contents[pos] != '\n' {
			pos++
		}
		line := contents[start:pos]
		pos++
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		tokens := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' })
		if len(tokens) == 0 {
			continue
		}
		if len(tokens) < 2 {
			return nil, errors.New("illegal")
		}
		if tokens[0] == "include" || tokens[0] == "!include" {
			if len(tokens) != 2 {
				return nil, errors.New("illegal")
			}
			out = append(out, [2]string{tokens[0], tokens[1]})
			continue
		}
		if tokens[1] != "=" {
			return nil, errors.New("illegal")
		}
		out = append(out, [2]string{tokens[0], strings.Join(tokens[2:], " ")})
	}
	return out, nil
}

func FuzzParse(f *testing.F) {
	for _, seed := range corpusSeeds(f) {
		f.Add(seed)
	}
	f.Add([]byte("a = b\r\nc=d"))
	f.Add([]byte("\ufeffinclude x\n#\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("/etc/nix/nix.conf", data)
		if file.String() != string(data) {
			t.Fatalf("round trip: %q -> %q", data, file.String())
		}
		ref, referr := nixReference(string(data))
		if (err == nil) != (referr == nil) {
			t.Fatalf("Parse error %v, Nix reference error %v, for %q", err, referr, data)
		}
		if err != nil {
			return
		}
		var got [][2]string
		for _, l := range file.Lines {
			switch l.Kind {
			case Setting:
				got = append(got, [2]string{l.Name, strings.Join(l.Values, " ")})
			case Include:
				got = append(got, [2]string{l.Name, l.Values[0]})
			}
		}
		if !slices.Equal(got, ref) {
			t.Fatalf("Parse %q\nNix   %q\nfor %q", got, ref, data)
		}
	})
}

// corpusSeeds returns every input file of the corpus, as fuzz seeds.
func corpusSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	names, _ := filepath.Glob("testdata/corpus/*.txtar")
	for _, name := range names {
		ar, err := txtar.ParseFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if !strings.HasSuffix(file.Name, ".golden") {
				seeds = append(seeds, file.Data)
			}
		}
	}
	return seeds
}

func TestNixKeyProblem(t *testing.T) {
	for _, ok := range []string{keyAcme1, NixOSCacheKey, strings.TrimSuffix(keyAcme1, "="), keyAcme1 + "=junk", "name with:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2Xc="} {
		if p := NixKeyProblem(ok); p != "" {
			t.Errorf("%q: %s", ok, p)
		}
	}
	for _, bad := range []string{"", "a", ":AAAA", "a:", "cache.acme.example-1:xxxx", keyAcme1[:30], "a:" + strings.Repeat("A", 44), "a:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2X-="} {
		if NixKeyProblem(bad) == "" {
			t.Errorf("%q: accepted", bad)
		}
	}
}
