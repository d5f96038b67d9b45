package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/keyform/keyform/internal/gitfs"
	"github.com/keyform/keyform/internal/synthetic"
)

// hclWriter is what writeDiagnostics printed before it found snippets by
// itself: HCL's writer for every diagnostic.
func hclWriter(files map[string]*hcl.File, diags hcl.Diagnostics, color bool) string {
	var out, buf bytes.Buffer
	dw := hcl.NewDiagnosticTextWriter(&buf, files, 0, color)
	for _, d := range diags {
		buf.Reset()
		dw.WriteDiagnostic(d)
		if d.Subject != nil {
			fmt.Fprintf(&out, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		out.Write(buf.Bytes())
	}
	return out.String()
}

func checkSameAsHCL(t *testing.T, what string, files map[string]*hcl.File, diags hcl.Diagnostics) {
	t.Helper()
	for _, color := range []bool{false, true} {
		var got bytes.Buffer
		if err := writeDiagnostics(&got, files, diags, 0, color); err != nil {
			t.Fatal(err)
		}
		if want := hclWriter(files, diags, color); got.String() != want {
			t.Fatalf("%s (color %v): got\n%s\nHCL's writer:\n%s", what, color, got.String(), want)
		}
	}
}

// TestDiagnosticsSameAsHCL: every vector's diagnostics print exactly as
// HCL's writer prints them.
func TestDiagnosticsSameAsHCL(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.txtar")
	for _, path := range paths {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for _, f := range ar.Files {
			p := filepath.Join(dir, f.Name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, bytes.ReplaceAll(f.Data, []byte("$DIR"), []byte(dir)), 0o644)
		}
		res := LoadFS(os.DirFS(dir), ".", Options{Now: testNow, AbsDir: dir, WorkTree: gitfs.FindWorkTree(dir), CheckRecipient: checkRecipient})
		checkSameAsHCL(t, path, res.files, res.Diags)
	}
}

// TestDiagnosticsSameAsHCLEveryRange prints a diagnostic for every range
// of a file with CRLF and lone CR line ends, tabs, wide and combining
// characters, with and without a context range, and compares with HCL's
// writer.
func TestDiagnosticsSameAsHCLEveryRange(t *testing.T) {
	src := "key \"a\" {\r\n  name = \"é́x\"\r\n\tstate = \"日本\" # c\rx = 1\n\n}\nlast"
	f, _ := hclsyntax.ParseConfig([]byte(src), "p.hcl", hcl.InitialPos)
	files := map[string]*hcl.File{"p.hcl": f}
	var diags hcl.Diagnostics
	pos := func(b int) hcl.Pos { return hcl.Pos{Line: 1 + strings.Count(src[:b], "\n"), Column: b + 1, Byte: b} }
	for i := 0; i <= len(src); i++ {
		for j := i; j <= len(src); j++ {
			d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "S", Detail: "D.", Subject: &hcl.Range{Filename: "p.hcl", Start: pos(i), End: pos(j)}}
			if j%5 == 0 {
				d.Severity = hcl.DiagWarning
				d.Detail = ""
				d.Context = &hcl.Range{Filename: "p.hcl", Start: pos(i / 2), End: pos(j)}
			}
			diags = append(diags, d)
		}
	}
	checkSameAsHCL(t, "every range", files, diags)
}

// BenchmarkDiagnostics prints one error per key of a policy of n keys in
// one file (every private_key_path inside the policy directory); time per
// diagnostic should not grow with n.
func BenchmarkDiagnostics(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		cfg := synthetic.Config{Catalogs: n / 10, Keys: n, Files: 1, Seed: 1, RotateKey: -1, PrivateKeyDir: "/policy/secrets"}
		fsys, err := synthetic.FS(cfg)
		if err != nil {
			b.Fatal(err)
		}
		res := LoadFS(fsys, ".", Options{Now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), AbsDir: "/policy"})
		if len(res.Diags) != n {
			b.Fatalf("%d diagnostics, want %d", len(res.Diags), n)
		}
		b.Run(fmt.Sprintf("errors=%d", n), func(b *testing.B) {
			for b.Loop() {
				res.WriteDiagnostics(&bytes.Buffer{}, 0, false)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/diagnostic")
		})
	}
}
