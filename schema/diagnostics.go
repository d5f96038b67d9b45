package schema

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// writeDiagnostics prints every diagnostic with a source snippet, each
// after FILE:LINE:COL so editors and CI logs can jump to it.
//
// The text is exactly what hcl.NewDiagnosticTextWriter writes, but the
// snippet is found through an index of line starts: HCL's writer scans the
// whole file from its first byte for every diagnostic, so a policy with a
// thousand errors in one file took 35 s to print (ten thousand, hours).
// Diagnostics this fast path does not cover (no source, values of
// referenced variables, wrapped details) go to HCL's writer.
func writeDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	var buf bytes.Buffer
	dw := hcl.NewDiagnosticTextWriter(&buf, files, width, color)
	lines := map[*hcl.File][]int{}
	for _, d := range diags {
		buf.Reset()
		var file *hcl.File
		if d.Subject != nil {
			file = files[d.Subject.Filename]
		}
		fast := file != nil && file.Bytes != nil && width == 0 && (d.Expression == nil || d.EvalContext == nil)
		if fast {
			if lines[file] == nil {
				lines[file] = lineStarts(file.Bytes)
			}
			fast = writeDiagnostic(&buf, file, lines[file], d, color)
		}
		if !fast {
			buf.Reset()
			if err := dw.WriteDiagnostic(d); err != nil {
				return err
			}
		}
		if d.Subject != nil {
			fmt.Fprintf(w, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// lineStarts returns the byte offset of every line of src, breaking lines
// where hcl.RangeScanner does: after "\r\n", "\n" or a lone "\r".
func lineStarts(src []byte) []int {
	starts := []int{0}
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '\r':
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
			starts = append(starts, i+1)
		case '\n':
			starts = append(starts, i+1)
		}
	}
	return starts
}

// writeDiagnostic writes d as HCL's diagnostic writer does (see
// diagnostic_text.go in hcl/v2), for a diagnostic with a subject in file
// and without variables to describe, when wrapping is off. It reports
// false, having written nothing useful, when the subject's range does not
// fit the file; the caller then uses HCL's writer.
func writeDiagnostic(w *bytes.Buffer, file *hcl.File, starts []int, d *hcl.Diagnostic, color bool) bool {
	src := file.Bytes
	snipRange := *d.Subject
	highlightRange := snipRange
	if d.Context != nil {
		snipRange = hcl.RangeOver(snipRange, *d.Context)
	}
	if snipRange.Empty() {
		snipRange.End.Byte++
		snipRange.End.Column++
	}
	if highlightRange.Empty() {
		highlightRange.End.Byte++
		highlightRange.End.Column++
	}
	if snipRange.Start.Byte < 0 || snipRange.Start.Byte > len(src) || snipRange.End.Byte < snipRange.Start.Byte {
		return false
	}

	var colorCode, highlightCode, resetCode string
	if color {
		switch d.Severity {
		case hcl.DiagError:
			colorCode = "\x1b[31m"
		case hcl.DiagWarning:
			colorCode = "\x1b[33m"
		}
		resetCode = "\x1b[0m"
		highlightCode = "\x1b[1;4m"
	}
	severity := "???????"
	switch d.Severity {
	case hcl.DiagError:
		severity = "Error"
	case hcl.DiagWarning:
		severity = "Warning"
	}
	fmt.Fprintf(w, "%s%s%s: %s\n\n", colorCode, severity, resetCode, d.Summary)

	context := ""
	if s := contextString(file, d.Subject.Start.Byte); s != "" {
		context = ", in " + s
	}
	fmt.Fprintf(w, "  on %s line %d%s:\n", d.Subject.Filename, d.Subject.Start.Line, context)

	// Scan from the line before the one holding the range's start to the
	// line after the one holding its end; the overlap test below picks
	// the lines HCL's writer would, which only ever touch those.
	line := func(offset int) int {
		return sort.Search(len(starts), func(i int) bool { return starts[i] > offset }) - 1
	}
	first := max(0, line(snipRange.Start.Byte)-1)
	last := min(len(starts)-1, line(snipRange.End.Byte)+1)
	end := len(src)
	if last+1 < len(starts) {
		end = starts[last+1]
	}
	start := hcl.Pos{Line: first + 1, Column: 1, Byte: starts[first]}
	sc := hcl.NewRangeScannerFragment(src[:end], d.Subject.Filename, start, bufio.ScanLines)
	for sc.Scan() {
		lineRange := sc.Range()
		if !lineRange.Overlaps(snipRange) {
			continue
		}
		beforeRange, highlightedRange, afterRange := lineRange.PartitionAround(highlightRange)
		if highlightedRange.Empty() {
			fmt.Fprintf(w, "%4d: %s\n", lineRange.Start.Line, sc.Bytes())
		} else {
			fmt.Fprintf(w, "%4d: %s%s%s%s%s\n", lineRange.Start.Line,
				beforeRange.SliceBytes(src), highlightCode, highlightedRange.SliceBytes(src), resetCode, afterRange.SliceBytes(src))
		}
	}
	w.WriteByte('\n')

	if d.Detail != "" {
		fmt.Fprintf(w, "%s\n\n", d.Detail)
	}
	return true
}

// contextString names the top-level block holding offset, as HCL's
// navigation does ("key \"a\""), but by binary search: HCL walks every
// block of the file.
func contextString(file *hcl.File, offset int) string {
	body, ok := file.Body.(*hclsyntax.Body)
	if !ok {
		if cs, ok := file.Nav.(interface{ ContextString(offset int) string }); ok {
			return cs.ContextString(offset)
		}
		return ""
	}
	blocks := body.Blocks
	i := sort.Search(len(blocks), func(i int) bool { return blocks[i].Range().End.Byte > offset })
	if i == len(blocks) || !blocks[i].Range().ContainsOffset(offset) {
		return ""
	}
	b := blocks[i]
	s := b.Type
	for _, label := range b.Labels {
		s += fmt.Sprintf(" %q", label)
	}
	return s
}
