package schema

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/keyform/keyform/policy"
)

// The edit functions change one policy file's source the way a careful
// person would: they touch only the lines the change needs and keep every
// comment, blank line and unrelated layout. A file that was in canonical
// format (keyform fmt) stays canonical; one that was not is not reformatted
// behind the user's back. Callers validate the edited policy before writing
// it: these functions only promise syntax, not meaning.

// KeyBlock describes a key block that AddKeyAfter writes.
type KeyBlock struct {
	Label string
	Name  string
	// Catalog is a catalog label; "" writes no catalog attribute.
	Catalog        string
	PublicKeyFile  string
	PrivateKeyPath string
}

// AddKeyAfter returns src with a new key block inserted right after the key
// block labelled after, separated by a blank line.
func AddKeyAfter(src []byte, filename, after string, nk KeyBlock) ([]byte, error) {
	body, err := parseSyntax(src, filename)
	if err != nil {
		return nil, err
	}
	blk := findBlock(body, "key", after)
	if blk == nil {
		return nil, fmt.Errorf("%s: no key %q to add %q after", filename, after, nk.Label)
	}
	if findBlock(body, "key", nk.Label) != nil {
		return nil, fmt.Errorf("%s: key %q already exists", filename, nk.Label)
	}

	f := hclwrite.NewEmptyFile()
	b := f.Body().AppendNewBlock("key", []string{nk.Label}).Body()
	b.SetAttributeValue("name", cty.StringVal(nk.Name))
	if nk.Catalog != "" {
		b.SetAttributeTraversal("catalog", hcl.Traversal{hcl.TraverseRoot{Name: "catalog"}, hcl.TraverseAttr{Name: nk.Catalog}})
	}
	if nk.PublicKeyFile != "" {
		b.SetAttributeValue("public_key_file", cty.StringVal(nk.PublicKeyFile))
	}
	if nk.PrivateKeyPath != "" {
		b.SetAttributeValue("private_key_path", cty.StringVal(nk.PrivateKeyPath))
	}
	eol := lineEnding(src)
	block := bytes.ReplaceAll(hclwrite.Format(f.Bytes()), []byte("\n"), []byte(eol))

	// Insert after the line that holds the old block's closing brace, so a
	// comment trailing the brace stays with the old block.
	at := blk.CloseBraceRange.End.Byte
	var ins []byte
	if i := bytes.IndexByte(src[at:], '\n'); i >= 0 {
		at += i + 1
		ins = append([]byte(eol), block...)
	} else {
		at = len(src)
		ins = append([]byte(eol+eol), block...)
	}
	return finish(src, splice(src, edit{at, ins}), filename)
}

// SetKeyState returns src with the state attribute of the key block
// labelled label set to state, adding the attribute after the block's last
// attribute when it is absent.
func SetKeyState(src []byte, filename, label string, state policy.KeyState) ([]byte, error) {
	body, err := parseSyntax(src, filename)
	if err != nil {
		return nil, err
	}
	blk := findBlock(body, "key", label)
	if blk == nil {
		return nil, fmt.Errorf("%s: no key %q", filename, label)
	}
	value := strconv.Quote(string(state))
	if attr := blk.Body.Attributes["state"]; attr != nil {
		r := attr.Expr.Range()
		out := slices.Concat(src[:r.Start.Byte], []byte(value), src[r.End.Byte:])
		return finish(src, out, filename)
	}
	eol := lineEnding(src)
	indent := "  "
	var last *hclsyntax.Attribute
	for _, a := range blk.Body.Attributes {
		if last == nil || a.SrcRange.Start.Byte > last.SrcRange.Start.Byte {
			last = a
		}
	}
	if last != nil {
		start := last.SrcRange.Start.Byte
		if ws := src[bytes.LastIndexByte(src[:start], '\n')+1 : start]; len(bytes.Trim(ws, " \t")) == 0 {
			indent = string(ws)
		}
	}
	line := indent + "state = " + value + eol
	open, closing := blk.OpenBraceRange.End.Byte, blk.CloseBraceRange.Start.Byte
	if blk.OpenBraceRange.Start.Line == blk.CloseBraceRange.Start.Line {
		// A one-line block ("key "a" { public_key = "..." }") becomes a
		// block of several lines.
		inner := bytes.TrimSpace(src[open:closing])
		var text []byte
		if len(inner) > 0 {
			text = slices.Concat([]byte(eol+indent), inner)
		}
		text = append(text, eol+line...)
		return finish(src, slices.Concat(src[:open], text, src[closing:]), filename)
	}
	// Insert after the line of the last attribute, so the new one joins its
	// alignment group; comments at the end of the block stay there.
	if last != nil {
		if nl := bytes.IndexByte(src[last.SrcRange.End.Byte:closing], '\n'); nl >= 0 {
			return finish(src, splice(src, edit{last.SrcRange.End.Byte + nl + 1, []byte(line)}), filename)
		}
	}
	lineStart := bytes.LastIndexByte(src[:closing], '\n') + 1
	at, text := lineStart, line
	if len(bytes.Trim(src[lineStart:closing], " \t")) > 0 {
		at, text = closing, eol+line
	}
	return finish(src, splice(src, edit{at, []byte(text)}), filename)
}

// AddTrustRef returns src with key.newLabel added right after key.oldLabel
// in every target trust list of the file that names key.oldLabel directly
// (and not already key.newLabel), and the IDs of the targets it changed. In
// a list written one entry per line the new entry gets its own line.
func AddTrustRef(src []byte, filename, oldLabel, newLabel string) ([]byte, []string, error) {
	body, err := parseSyntax(src, filename)
	if err != nil {
		return nil, nil, err
	}
	eol := lineEnding(src)
	var edits []edit
	var changed []string
	for _, blk := range body.Blocks {
		if blk.Type != "target" || len(blk.Labels) != 2 {
			continue
		}
		attr := blk.Body.Attributes["trust"]
		if attr == nil {
			continue
		}
		list, ok := attr.Expr.(*hclsyntax.TupleConsExpr)
		if !ok {
			continue
		}
		var old hclsyntax.Expression
		hasNew := false
		for _, e := range list.Exprs {
			switch refOf(e) {
			case policy.Ref{Type: "key", Label: oldLabel}:
				old = e
			case policy.Ref{Type: "key", Label: newLabel}:
				hasNew = true
			}
		}
		if old == nil || hasNew {
			continue
		}
		edits = append(edits, trustInsertion(src, old.Range(), "key."+newLabel, eol))
		changed = append(changed, blk.Labels[0]+"."+blk.Labels[1])
	}
	if len(edits) == 0 {
		return src, nil, nil
	}
	out, err := finish(src, splice(src, edits...), filename)
	return out, changed, err
}

// trustInsertion places ref after the list element at r: on a line of its
// own when the element has one, else inline after it.
func trustInsertion(src []byte, r hcl.Range, ref, eol string) edit {
	start, end := r.Start.Byte, r.End.Byte
	lineStart := bytes.LastIndexByte(src[:start], '\n') + 1
	indent := src[lineStart:start]
	ownLine := len(bytes.Trim(indent, " \t")) == 0
	j := skipBlanks(src, end)
	switch {
	case ownLine && j < len(src) && src[j] == ',':
		// After the comma: the end of the line, or a comment to it.
		k := skipBlanks(src, j+1)
		if rest := src[k:]; bytes.HasPrefix(rest, []byte("#")) || bytes.HasPrefix(rest, []byte("//")) {
			if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
				return edit{k + nl + 1, []byte(string(indent) + ref + "," + eol)}
			}
		} else if bytes.HasPrefix(rest, []byte(eol)) {
			return edit{k + len(eol), []byte(string(indent) + ref + "," + eol)}
		}
	case ownLine && j < len(src) && bytes.HasPrefix(src[j:], []byte(eol)):
		return edit{end, []byte("," + eol + string(indent) + ref)}
	}
	return edit{end, []byte(", " + ref)}
}

func skipBlanks(src []byte, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	return i
}

// refOf returns the catalog.X or key.X reference an expression is, or the
// zero Ref.
func refOf(e hclsyntax.Expression) policy.Ref {
	st, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(st.Traversal) != 2 {
		return policy.Ref{}
	}
	attr, ok := st.Traversal[1].(hcl.TraverseAttr)
	if !ok {
		return policy.Ref{}
	}
	return policy.Ref{Type: st.Traversal.RootName(), Label: attr.Name}
}

type edit struct {
	at   int
	text []byte
}

// splice applies insertions, given in increasing order of position.
func splice(src []byte, edits ...edit) []byte {
	out := make([]byte, 0, len(src)+64*len(edits))
	prev := 0
	for _, e := range edits {
		out = append(out, src[prev:e.at]...)
		out = append(out, e.text...)
		prev = e.at
	}
	return append(out, src[prev:]...)
}

// finish keeps a canonically formatted file canonical (an inserted
// attribute changes the alignment of its neighbours) and checks that the
// result still parses.
func finish(src, out []byte, filename string) ([]byte, error) {
	if bytes.Equal(hclwrite.Format(src), src) {
		out = hclwrite.Format(out)
	}
	if _, err := parseSyntax(out, filename); err != nil {
		return nil, fmt.Errorf("editing %s produced invalid HCL (a keyform bug): %w", filename, err)
	}
	return out, nil
}

func parseSyntax(src []byte, filename string) (*hclsyntax.Body, error) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	return f.Body.(*hclsyntax.Body), nil
}

func findBlock(body *hclsyntax.Body, typ, label string) *hclsyntax.Block {
	for _, b := range body.Blocks {
		if b.Type == typ && len(b.Labels) > 0 && b.Labels[0] == label {
			return b
		}
	}
	return nil
}

func lineEnding(src []byte) string {
	if bytes.Contains(src, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// CheckLabel reports whether label can be a block label that references
// name (catalog.LABEL, key.LABEL).
func CheckLabel(label string) error {
	if !identRe.MatchString(label) {
		return fmt.Errorf("%q cannot be used in references; use letters, digits, underscores and dashes, starting with a letter or underscore, for example %q", label, suggestIdent(label))
	}
	return nil
}

// SuccessorName is the default Nix key name of a rotation's new key: a
// trailing "-N" is incremented ("cache.example.org-1" becomes
// "cache.example.org-2"), otherwise "-2" is appended.
func SuccessorName(name string) string { return nextName(name) }

// SuccessorLabel is the default label of a rotation's new key: trailing
// digits are incremented keeping their width ("acme_1" becomes "acme_2",
// "acme_2026" becomes "acme_2027", "k09" becomes "k10"), otherwise "_2" is
// appended ("acme" becomes "acme_2").
func SuccessorLabel(label string) string {
	i := len(label)
	for i > 0 && label[i-1] >= '0' && label[i-1] <= '9' {
		i--
	}
	digits := label[i:]
	n, err := strconv.ParseUint(digits, 10, 63)
	if digits == "" || i == 0 || err != nil {
		return label + "_2"
	}
	return fmt.Sprintf("%s%0*d", label[:i], len(digits), n+1)
}
