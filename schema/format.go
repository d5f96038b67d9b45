package schema

import (
	"bytes"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

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
	_, diags := p.ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, &Result{Diags: diags, files: p.Files()}
	}
	return hclwrite.Format(src), nil
}

// WriteDiags prints diagnostics that did not come from a Result (no source
// snippets available).
func WriteDiags(w io.Writer, diags hcl.Diagnostics, width uint, color bool) error {
	return writeDiagnostics(w, nil, diags, width, color)
}
