package schema

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/keyform/keyform/internal/redact"
	"github.com/keyform/keyform/internal/safefile"
)

// Format returns src in canonical HCL layout. It refuses files that do not
// parse, because hclwrite would otherwise reformat broken input into
// something different but still broken, and files that hold a secret, so
// that neither a diff nor the rewritten file can show it: the Result then
// has one error per secret, with its snippet masked. src is not changed.
func Format(src []byte, filename string) ([]byte, *Result) {
	if len(src) > MaxPolicyFileSize {
		return nil, errResult("Cannot read policy file", fmt.Sprintf("%s is %s, larger than %s, the limit for a policy file.", filename, safefile.Size(int64(len(src))), safefile.Size(MaxPolicyFileSize)))
	}
	masked := bytes.Clone(src)
	if findings := redact.Mask(masked); len(findings) > 0 {
		f, _ := hclsyntax.ParseConfig(masked, filename, hcl.InitialPos)
		if f == nil {
			f = &hcl.File{Bytes: masked}
		}
		return nil, &Result{Diags: secretDiags(f, filename, findings), files: map[string]*hcl.File{filename: f}}
	}
	p := hclparse.NewParser()
	f, diags := p.ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, &Result{Diags: diags, files: p.Files()}
	}
	// What only the attribute tells apart from other text: a secret
	// without its name, a URL with an escaped @.
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		masked := bytes.Clone(src)
		mf := &hcl.File{Body: f.Body, Bytes: masked}
		if diags := valueSecrets(body, mf); len(diags) > 0 {
			return nil, &Result{Diags: diags, files: map[string]*hcl.File{filename: mf}}
		}
	}
	return hclwrite.Format(src), nil
}

// valueSecrets checks the literal public_key and substituter attributes of
// every block in body, as Load does, masking what it reports in f.Bytes.
func valueSecrets(body *hclsyntax.Body, f *hcl.File) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range body.Blocks {
		for _, name := range slices.Sorted(maps.Keys(b.Body.Attributes)) {
			attr := b.Body.Attributes[name]
			v, diags2 := attr.Expr.Value(nil)
			if diags2.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
				continue
			}
			r := attr.Expr.Range()
			where := fmt.Sprintf("Line %d of %s", r.Start.Line, r.Filename)
			var d *hcl.Diagnostic
			switch {
			case name == "public_key" && redact.ClassifyKeyText(v.AsString()) != 0:
				kind := redact.ClassifyKeyText(v.AsString())
				summary := "Secret key where a public key belongs"
				if kind == redact.TruncatedSecretKey {
					summary = "Truncated secret key where a public key belongs"
				}
				d = &hcl.Diagnostic{Summary: summary, Detail: secretFix(kind, where)}
			case name == "substituter" && hasCredentials(v.AsString()):
				d = &hcl.Diagnostic{Summary: "Credentials in a substituter URL", Detail: errCredentials.Error() + "."}
			default:
				continue
			}
			redact.MaskValue(f.Bytes[r.Start.Byte:r.End.Byte])
			d.Severity, d.Subject = hcl.DiagError, &r
			diags = append(diags, d)
		}
	}
	return diags
}

// WriteDiags prints diagnostics that did not come from a Result (no source
// snippets available).
func WriteDiags(w io.Writer, diags hcl.Diagnostics, width uint, color bool) error {
	return writeDiagnostics(w, nil, diags, width, color)
}
