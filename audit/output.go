package audit

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// SchemaVersion is the version of the JSON documents this package
// writes: the audit output and the recorded summary.
const SchemaVersion = 1

// Document is `keyform audit --format json` output.
type Document struct {
	Version  int       `json:"version"`
	Catalogs []*Report `json:"catalogs"`
}

// WriteJSON writes the reports as one indented JSON document. Map keys
// are sorted, so the output is deterministic.
func WriteJSON(w io.Writer, reports []*Report) error {
	if reports == nil {
		reports = []*Report{}
	}
	b, err := json.MarshalIndent(Document{Version: SchemaVersion, Catalogs: reports}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ExitCode is the exit status of `keyform audit` for these reports: 2
// when a narinfo could not be checked, 1 when a path is not covered by an
// active key or a signature is invalid, 0 otherwise.
func ExitCode(reports []*Report) int {
	code := 0
	for _, r := range reports {
		if r.Malformed > 0 {
			return 2
		}
		if !r.OK() {
			code = 1
		}
	}
	return code
}

// sortedKeys returns the key names of r: active keys first, then retired,
// each by name.
func (r *Report) sortedKeys() []string {
	names := make([]string, 0, len(r.Keys))
	for n := range r.Keys {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(r.Keys[a].State, r.Keys[b].State), strings.Compare(a, b))
	})
	return names
}

// WriteText writes the reports for people, one block per catalog.
func WriteText(w io.Writer, reports []*Report) error {
	var b bytes.Buffer
	for i, r := range reports {
		if i > 0 {
			b.WriteByte('\n')
		}
		r.writeText(&b)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func (r *Report) writeText(b *bytes.Buffer) {
	fmt.Fprintf(b, "catalog %s: %s\n", r.Catalog, r.Store)
	notFound := ""
	if r.NotFound > 0 {
		notFound = fmt.Sprintf(" (%d more not in the cache)", r.NotFound)
	}
	fmt.Fprintf(b, "  %8d paths checked%s\n", r.Paths, notFound)
	fmt.Fprintf(b, "  %8d covered by an active key\n", r.Covered)
	fmt.Fprintf(b, "  %8d signed only by retired keys\n", r.RetiredOnly)
	fmt.Fprintf(b, "  %8d unsigned or signed only by unknown keys\n", r.Unsigned)
	if r.ContentAddressed > 0 {
		fmt.Fprintf(b, "  %8d content-addressed without an active-key signature\n", r.ContentAddressed)
	}
	fmt.Fprintf(b, "  %8d with an INVALID signature\n", r.Invalid)
	if r.Malformed > 0 {
		fmt.Fprintf(b, "  %8d malformed narinfos (not checked)\n", r.Malformed)
	}
	b.WriteString("  keys:\n")
	if len(r.Keys) == 0 {
		b.WriteString("    none: the catalog has no active or retired keys\n")
	}
	for _, name := range r.sortedKeys() {
		k := r.Keys[name]
		fmt.Fprintf(b, "    %s (key.%s, %s): %d valid, %d invalid", name, k.Label, k.State, k.Valid, k.Invalid)
		if k.State == "active" {
			fmt.Fprintf(b, ", %d would be stranded by retiring it", k.WouldStrand)
		}
		b.WriteByte('\n')
		for _, p := range k.Stranded {
			fmt.Fprintf(b, "      %s\n", p)
		}
		if more := k.WouldStrand - int64(len(k.Stranded)); more > 0 && len(k.Stranded) > 0 {
			fmt.Fprintf(b, "      ... and %d more\n", more)
		}
	}
	if len(r.UnknownKeys) > 0 || r.UnknownOther > 0 {
		b.WriteString("  signatures by keys the policy does not know:")
		for _, name := range slices.Sorted(maps.Keys(r.UnknownKeys)) {
			fmt.Fprintf(b, " %s (%d)", name, r.UnknownKeys[name])
		}
		if r.UnknownOther > 0 {
			fmt.Fprintf(b, " others (%d)", r.UnknownOther)
		}
		b.WriteByte('\n')
	}
	findings := func(title string, n int64, l []Finding) {
		if n == 0 {
			return
		}
		fmt.Fprintf(b, "  %s (%d):\n", title, n)
		for _, f := range l {
			fmt.Fprintf(b, "    %s: %s\n", f.Path, f.Problem)
		}
		if more := n - int64(len(l)); more > 0 && len(l) > 0 {
			fmt.Fprintf(b, "    ... and %d more\n", more)
		}
	}
	paths := func(title string, n int64, l []string) {
		if n == 0 {
			return
		}
		fmt.Fprintf(b, "  %s (%d):\n", title, n)
		for _, p := range l {
			fmt.Fprintf(b, "    %s\n", p)
		}
		if more := n - int64(len(l)); more > 0 && len(l) > 0 {
			fmt.Fprintf(b, "    ... and %d more\n", more)
		}
	}
	findings("INVALID signatures", r.Invalid, r.Examples.Invalid)
	findings("malformed narinfos", r.Malformed, r.Examples.Malformed)
	paths("signed only by retired keys", r.RetiredOnly, r.Examples.RetiredOnly)
	paths("unsigned or signed only by unknown keys", r.Unsigned, r.Examples.Unsigned)
}
