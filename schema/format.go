package schema

import (
	"io"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout. It refuses files that do not
// parse, because hclwrite would otherwise reformat broken input into
// something different but still broken.
func Format(src []byte, filename string) ([]byte, *Result) {
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
