package plan

import (
	"bytes"
	"fmt"
	"strings"
)

// Markdown markers for note levels; GitHub, GitLab and Gitea render them.
var levelMark = map[string]string{Danger: "🚨 danger", Warning: "⚠️ warning", Info: "ℹ️ info"}

// MarkdownMarker is an HTML comment at the top of the markdown form, so a CI
// job can find and update its earlier plan comment.
const MarkdownMarker = "<!-- keyform-plan -->"

// mdSections are each section's table: its columns, and how an entry's
// facts fill them.
var mdSections = map[string]struct {
	columns []string
	row     func(entry) []string
}{
	"Targets":    {[]string{"Target", "Change", "Newly trusted", "No longer trusted", "Substituters"}, mdTargetRow},
	"Keys":       {[]string{"Key", "Change", "Name", "Catalog", "Fingerprint"}, mdKeyRow},
	"Catalogs":   {[]string{"Catalog", "Change", "Substituters", "Active keys"}, mdCatalogRow},
	"Publishers": {[]string{"Publisher", "Change", "Signs with", "Recipients"}, mdPublisherRow},
}

// Markdown renders the plan as compact GitHub-flavoured markdown tables for
// a pull request comment. Every value is escaped: no cell content can end a
// cell, a row or a code span.
func (p *Plan) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n### keyform plan\n\n", MarkdownMarker)
	fmt.Fprintf(&b, "%s\n", mdLine(fmt.Sprintf("%s → %s: %s", mdCode(p.Base), mdText(p.Head), mdText(p.Summary()))))
	if len(p.Notes) > 0 {
		b.WriteString("\n")
		t := &mdTable{header: []string{"Level", "Subject", "Risk"}}
		for _, n := range p.Notes {
			t.row(levelMark[n.Level], mdCode(n.Subject), mdText(n.Message))
		}
		t.write(&b)
	}
	for _, s := range p.sections() {
		if len(s.entries) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n**%s**\n\n", s.title)
		md := mdSections[s.title]
		t := &mdTable{header: md.columns}
		for _, e := range s.entries {
			t.row(md.row(e)...)
		}
		t.write(&b)
	}
	return b.Bytes()
}

// mdTargetRow lists in the change column the change, then settings, then
// trust entries.
func mdTargetRow(e entry) []string {
	change := []string{e.change}
	var trust, subs []string
	var added, removed []KeyRef
	for _, f := range e.facts {
		switch f.kind {
		case trustsKey:
			if f.added {
				added = append(added, f.ref)
			} else {
				removed = append(removed, f.ref)
			}
		case substituter:
			subs = append(subs, mdItem(f, f.value))
		case trustEntry:
			trust = append(trust, "trust "+mdItem(f, f.value))
		case exclusive:
			change = append(change, fmt.Sprintf("exclusive: %s → %s", f.before, f.after))
		case path:
			change = append(change, fmt.Sprintf("path: %s → %s", mdCode(f.before), mdCode(f.after)))
		case trustedNow:
			if f.n == 0 {
				trust = append(trust, "**trusts no key**")
			}
		default:
			unknownFact("markdown", f)
		}
	}
	return []string{mdCode(e.label), mdJoin(append(change, trust...)), mdKeyRefs(added, removed), mdKeyRefs(removed, added), mdJoin(subs)}
}

// mdKeyRow shows the key as it is now (or was, if removed), and a replaced
// public key's old and new fingerprints.
func mdKeyRow(e entry) []string {
	var change []string
	fp := mdCode(e.now.Fingerprint)
	for _, f := range e.facts {
		switch {
		case f.kind == keyCreated:
			change = append(change, "created ("+f.key.State+")")
		case f.kind == keyRemoved:
			change = append(change, "removed (was "+f.key.State+")")
		case f.kind != keyField:
			unknownFact("markdown", f)
		case f.field == FieldState:
			change = append(change, map[bool]string{true: "retired", false: "🚨 reactivated"}[f.after == "retired"])
		case f.field == FieldPublicKey:
			change = append(change, "🚨 **public key replaced**")
			fp = mdCode(f.before) + " → " + mdCode(f.after)
		case f.field == FieldCatalog:
			change = append(change, fmt.Sprintf("catalog %s → %s", mdCode(orNone(f.before)), mdCode(orNone(f.after))))
		default:
			change = append(change, fmt.Sprintf("%s %s → %s", f.field, mdCode(f.before), mdCode(f.after)))
		}
	}
	cat := ""
	if e.now.Catalog != "" {
		cat = mdCode(e.now.Catalog)
	}
	return []string{mdCode(e.label), mdJoin(change), mdCode(e.now.Name), cat, fp}
}

func mdCatalogRow(e entry) []string {
	var subs []string
	active := ""
	for _, f := range e.facts {
		switch f.kind {
		case substituter:
			subs = append(subs, mdItem(f, f.value))
		case activeKeysNow:
			active = fmt.Sprint(f.n)
			if f.n == 0 {
				active = "🚨 **0**"
			}
		default:
			unknownFact("markdown", f)
		}
	}
	return []string{mdCode(e.label), e.change, mdJoin(subs), active}
}

func mdPublisherRow(e entry) []string {
	change := []string{e.change}
	var keys, recipients []string
	for _, f := range e.facts {
		switch f.kind {
		case signsWith:
			keys = append(keys, mdItem(f, "key."+f.value))
		case recipient:
			recipients = append(recipients, mdItem(f, f.value))
		case flox:
			change = append(change, fmt.Sprintf("flox: %s → %s", f.before, f.after))
		default:
			unknownFact("markdown", f)
		}
	}
	return []string{mdCode(e.label), mdJoin(change), mdJoin(keys), mdJoin(recipients)}
}

// mdItem is an item added to a list ("+ `v`") or removed ("− `v`").
func mdItem(f fact, v string) string {
	if f.added {
		return "+ " + mdCode(v)
	}
	return "− " + mdCode(v)
}

func mdJoin(cells []string) string { return strings.Join(cells, "<br>") }

// mdKeyRefs lists key names; a name that also appears in other (a public
// key replaced in place) gets its fingerprint, so the two can be told apart.
func mdKeyRefs(refs, other []KeyRef) string {
	var out []string
	for _, k := range refs {
		s := mdCode(k.Name)
		for _, o := range other {
			if o.Name == k.Name {
				s += " " + mdCode(k.Fingerprint)
				break
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, "<br>")
}

type mdTable struct {
	header []string
	rows   [][]string
}

func (t *mdTable) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *mdTable) write(b *bytes.Buffer) {
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + mdCell(c) + " |")
		}
		b.WriteString("\n")
	}
	line(t.header)
	delim := make([]string, len(t.header))
	for i := range delim {
		delim[i] = "---"
	}
	line(delim)
	for _, r := range t.rows {
		line(r)
	}
}

// mdCell makes assembled cell content safe inside a GFM table row: a pipe
// would end the cell (GFM unescapes \| before parsing the cell's inlines,
// also inside code spans) and a line break would end the row.
func mdCell(s string) string {
	return strings.ReplaceAll(mdLine(s), "|", `\|`)
}

// mdLine keeps s on one line: a line break would end a paragraph's line or
// a table row.
func mdLine(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s))
}

// mdText escapes plain text so that no character in it starts markdown
// or HTML syntax. Pipes and line breaks are left to mdCell.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>~&#!", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdCode renders s as a code span, with a fence longer than any run of
// backticks inside it (CommonMark's rule), so nothing in s is markup.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") {
		s = " " + s + " "
	}
	return fence + s + fence
}
