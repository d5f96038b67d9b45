package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// JSON renders the plan in its stable JSON form (docs/plan.md), indented,
// with a final newline.
func (p *Plan) JSON() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		// Plan holds only strings, ints, bools and slices of them.
		panic(err)
	}
	return buf.Bytes()
}

var levelWord = map[string]string{Danger: "DANGER", Warning: "WARNING", Info: "INFO"}

// Text renders the plan for a terminal.
func (p *Plan) Text() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "keyform plan: %s -> %s\n", p.Base, p.Head)
	if !p.Changed && len(p.Notes) == 0 {
		b.WriteString("No changes.\n")
		return b.Bytes()
	}
	fmt.Fprintf(&b, "%s\n", capitalize(p.Summary()))
	if len(p.Notes) > 0 {
		b.WriteString("\nRisks:\n")
		for _, n := range p.Notes {
			head := fmt.Sprintf("  %-8s %s: ", levelWord[n.Level], n.Subject)
			wrap(&b, head, strings.Repeat(" ", 11), n.Message, 100)
		}
	}
	if len(p.Targets) > 0 {
		b.WriteString("\nTargets:\n")
		for _, t := range p.Targets {
			fmt.Fprintf(&b, "  %s %s (%s)\n", sign(t.Change), t.ID, t.Change)
			for _, k := range t.KeysAdded {
				fmt.Fprintf(&b, "      + trusts %s (key.%s, %s)\n", k.Name, k.Label, k.Fingerprint)
			}
			for _, k := range t.KeysRemoved {
				fmt.Fprintf(&b, "      - trusts %s (key.%s, %s)\n", k.Name, k.Label, k.Fingerprint)
			}
			for _, s := range t.SubstitutersAdded {
				fmt.Fprintf(&b, "      + substituter %s\n", s)
			}
			for _, s := range t.SubstitutersRemoved {
				fmt.Fprintf(&b, "      - substituter %s\n", s)
			}
			for _, r := range t.TrustAdded {
				fmt.Fprintf(&b, "      + trust entry %s\n", r)
			}
			for _, r := range t.TrustRemoved {
				fmt.Fprintf(&b, "      - trust entry %s\n", r)
			}
			if t.Exclusive != nil {
				fmt.Fprintf(&b, "      exclusive: %s -> %s\n", onOff(t.Exclusive.Before), onOff(t.Exclusive.After))
			}
			if t.Path != nil {
				fmt.Fprintf(&b, "      path: %s -> %s\n", orNone(t.Path.Before), orNone(t.Path.After))
			}
			if t.Change != Removed {
				fmt.Fprintf(&b, "      trusts %d %s now\n", t.TrustedAfter, map[bool]string{true: "key", false: "keys"}[t.TrustedAfter == 1])
			}
		}
	}
	if len(p.Keys) > 0 {
		b.WriteString("\nKeys:\n")
		for _, k := range p.Keys {
			fmt.Fprintf(&b, "  %s key.%s (%s)\n", sign(k.Change), k.Label, keyChangeWord(k))
			for _, line := range keyDetails(k) {
				fmt.Fprintf(&b, "      %s\n", line)
			}
		}
	}
	if len(p.Catalogs) > 0 {
		b.WriteString("\nCatalogs:\n")
		for _, c := range p.Catalogs {
			fmt.Fprintf(&b, "  %s catalog.%s (%s)\n", sign(c.Change), c.Label, c.Change)
			for _, s := range c.SubstitutersAdded {
				fmt.Fprintf(&b, "      + substituter %s\n", s)
			}
			for _, s := range c.SubstitutersRemoved {
				fmt.Fprintf(&b, "      - substituter %s\n", s)
			}
			if c.Change != Removed {
				fmt.Fprintf(&b, "      %s now\n", plural(c.ActiveKeysAfter, "active key", "active keys"))
			}
		}
	}
	if len(p.Publishers) > 0 {
		b.WriteString("\nPublishers:\n")
		for _, pc := range p.Publishers {
			fmt.Fprintf(&b, "  %s publisher.%s (%s)\n", sign(pc.Change), pc.Label, pc.Change)
			for _, k := range pc.KeysAdded {
				fmt.Fprintf(&b, "      + signs with key.%s\n", k)
			}
			for _, k := range pc.KeysRemoved {
				fmt.Fprintf(&b, "      - signs with key.%s\n", k)
			}
			for _, r := range pc.RecipientsAdded {
				fmt.Fprintf(&b, "      + recipient %s\n", r)
			}
			for _, r := range pc.RecipientsRemoved {
				fmt.Fprintf(&b, "      - recipient %s\n", r)
			}
			if pc.Flox != nil {
				fmt.Fprintf(&b, "      flox: %s -> %s\n", onOff(pc.Flox.Before), onOff(pc.Flox.After))
			}
		}
	}
	return b.Bytes()
}

// keyChangeWord is what happened to a key, in one word or phrase.
func keyChangeWord(k KeyChange) string {
	if k.Change != Modified {
		return k.Change
	}
	switch {
	case slices.Contains(k.Fields, FieldPublicKey):
		return "PUBLIC KEY REPLACED"
	case slices.Contains(k.Fields, FieldState) && k.After.State == "retired":
		return "retired"
	case slices.Contains(k.Fields, FieldState):
		return "reactivated"
	}
	return Modified
}

// keyDetails lists a key change's facts for the text form.
func keyDetails(k KeyChange) []string {
	switch k.Change {
	case Created:
		return []string{describeKey(k.After)}
	case Removed:
		return []string{"was " + describeKey(k.Before)}
	}
	var out []string
	b, a := k.Before, k.After
	for _, f := range k.Fields {
		switch f {
		case FieldState:
			out = append(out, fmt.Sprintf("state: %s -> %s", b.State, a.State))
		case FieldName:
			out = append(out, fmt.Sprintf("name: %s -> %s", b.Name, a.Name))
		case FieldPublicKey:
			out = append(out, fmt.Sprintf("public key: %s -> %s", b.Fingerprint, a.Fingerprint))
		case FieldCatalog:
			out = append(out, fmt.Sprintf("catalog: %s -> %s", catalogRef(b.Catalog), catalogRef(a.Catalog)))
		case FieldExpires:
			out = append(out, fmt.Sprintf("expires: %s -> %s", orNever(b.Expires), orNever(a.Expires)))
		case FieldPublicKeyFile:
			out = append(out, fmt.Sprintf("public_key_file: %s -> %s", orInline(b.PublicKeyFile), orInline(a.PublicKeyFile)))
		case FieldPrivateKeyPath:
			out = append(out, fmt.Sprintf("private_key_path: %s -> %s", orNone(b.PrivateKeyPath), orNone(a.PrivateKeyPath)))
		}
	}
	return out
}

func describeKey(k *Key) string {
	s := fmt.Sprintf("%s %s, %s, %s", k.State, k.Name, catalogRef(k.Catalog), k.Fingerprint)
	if k.Expires != "" {
		s += ", expires " + k.Expires
	}
	return s
}

func sign(change string) string {
	switch change {
	case Added, Created:
		return "+"
	case Removed:
		return "-"
	}
	return "~"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func orNever(s string) string {
	if s == "" {
		return "never"
	}
	return s
}

func orInline(s string) string {
	if s == "" {
		return "inline"
	}
	return s
}

func catalogRef(label string) string {
	if label == "" {
		return "no catalog"
	}
	return "catalog." + label
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// wrap writes text after head, breaking lines at spaces before width
// columns and indenting continuation lines.
func wrap(b *bytes.Buffer, head, indent, text string, width int) {
	line := head
	first := true
	for _, word := range strings.Fields(text) {
		if !first && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent + word
			continue
		}
		if first {
			line += word
			first = false
		} else {
			line += " " + word
		}
	}
	b.WriteString(line + "\n")
}

// Markdown markers for note levels; GitHub, GitLab and Gitea render them.
var levelMark = map[string]string{Danger: "🚨 danger", Warning: "⚠️ warning", Info: "ℹ️ info"}

// MarkdownMarker is an HTML comment at the top of the markdown form, so a CI
// job can find and update its earlier plan comment.
const MarkdownMarker = "<!-- keyform-plan -->"

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
	if len(p.Targets) > 0 {
		b.WriteString("\n**Targets**\n\n")
		t := &mdTable{header: []string{"Target", "Change", "Newly trusted", "No longer trusted", "Substituters"}}
		for _, tc := range p.Targets {
			change := []string{tc.Change}
			if tc.Exclusive != nil {
				change = append(change, fmt.Sprintf("exclusive: %s → %s", onOff(tc.Exclusive.Before), onOff(tc.Exclusive.After)))
			}
			if tc.Path != nil {
				change = append(change, fmt.Sprintf("path: %s → %s", mdCode(orNone(tc.Path.Before)), mdCode(orNone(tc.Path.After))))
			}
			for _, r := range tc.TrustAdded {
				change = append(change, "trust + "+mdCode(r))
			}
			for _, r := range tc.TrustRemoved {
				change = append(change, "trust − "+mdCode(r))
			}
			if tc.Change != Removed && tc.TrustedAfter == 0 {
				change = append(change, "**trusts no key**")
			}
			var subs []string
			for _, s := range tc.SubstitutersAdded {
				subs = append(subs, "+ "+mdCode(s))
			}
			for _, s := range tc.SubstitutersRemoved {
				subs = append(subs, "− "+mdCode(s))
			}
			t.row(mdCode(tc.ID), strings.Join(change, "<br>"), mdKeyRefs(tc.KeysAdded, tc.KeysRemoved),
				mdKeyRefs(tc.KeysRemoved, tc.KeysAdded), strings.Join(subs, "<br>"))
		}
		t.write(&b)
	}
	if len(p.Keys) > 0 {
		b.WriteString("\n**Keys**\n\n")
		t := &mdTable{header: []string{"Key", "Change", "Name", "Catalog", "Fingerprint"}}
		for _, k := range p.Keys {
			cur := k.After
			if cur == nil {
				cur = k.Before
			}
			fp := mdCode(cur.Fingerprint)
			var change []string
			switch k.Change {
			case Created:
				change = append(change, "created ("+cur.State+")")
			case Removed:
				change = append(change, "removed (was "+cur.State+")")
			}
			for _, f := range k.Fields {
				bf, af := k.Before, k.After
				switch f {
				case FieldState:
					change = append(change, map[bool]string{true: "retired", false: "🚨 reactivated"}[af.State == "retired"])
				case FieldName:
					change = append(change, fmt.Sprintf("name %s → %s", mdCode(bf.Name), mdCode(af.Name)))
				case FieldPublicKey:
					change = append(change, "🚨 **public key replaced**")
					fp = mdCode(bf.Fingerprint) + " → " + mdCode(af.Fingerprint)
				case FieldCatalog:
					change = append(change, fmt.Sprintf("catalog %s → %s", mdCode(orNone(bf.Catalog)), mdCode(orNone(af.Catalog))))
				case FieldExpires:
					change = append(change, fmt.Sprintf("expires %s → %s", mdCode(orNever(bf.Expires)), mdCode(orNever(af.Expires))))
				case FieldPublicKeyFile:
					change = append(change, fmt.Sprintf("public_key_file %s → %s", mdCode(orInline(bf.PublicKeyFile)), mdCode(orInline(af.PublicKeyFile))))
				case FieldPrivateKeyPath:
					change = append(change, fmt.Sprintf("private_key_path %s → %s", mdCode(orNone(bf.PrivateKeyPath)), mdCode(orNone(af.PrivateKeyPath))))
				}
			}
			cat := ""
			if cur.Catalog != "" {
				cat = mdCode(cur.Catalog)
			}
			t.row(mdCode(k.Label), strings.Join(change, "<br>"), mdCode(cur.Name), cat, fp)
		}
		t.write(&b)
	}
	if len(p.Catalogs) > 0 {
		b.WriteString("\n**Catalogs**\n\n")
		t := &mdTable{header: []string{"Catalog", "Change", "Substituters", "Active keys"}}
		for _, c := range p.Catalogs {
			var subs []string
			for _, s := range c.SubstitutersAdded {
				subs = append(subs, "+ "+mdCode(s))
			}
			for _, s := range c.SubstitutersRemoved {
				subs = append(subs, "− "+mdCode(s))
			}
			active := fmt.Sprint(c.ActiveKeysAfter)
			switch {
			case c.Change == Removed:
				active = ""
			case c.ActiveKeysAfter == 0:
				active = "🚨 **0**"
			}
			t.row(mdCode(c.Label), c.Change, strings.Join(subs, "<br>"), active)
		}
		t.write(&b)
	}
	if len(p.Publishers) > 0 {
		b.WriteString("\n**Publishers**\n\n")
		t := &mdTable{header: []string{"Publisher", "Change", "Signs with", "Recipients"}}
		for _, pc := range p.Publishers {
			var ks, rs []string
			for _, k := range pc.KeysAdded {
				ks = append(ks, "+ "+mdCode("key."+k))
			}
			for _, k := range pc.KeysRemoved {
				ks = append(ks, "− "+mdCode("key."+k))
			}
			for _, r := range pc.RecipientsAdded {
				rs = append(rs, "+ "+mdCode(r))
			}
			for _, r := range pc.RecipientsRemoved {
				rs = append(rs, "− "+mdCode(r))
			}
			change := pc.Change
			if pc.Flox != nil {
				change += fmt.Sprintf("<br>flox: %s → %s", onOff(pc.Flox.Before), onOff(pc.Flox.After))
			}
			t.row(mdCode(pc.Label), change, strings.Join(ks, "<br>"), strings.Join(rs, "<br>"))
		}
		t.write(&b)
	}
	return b.Bytes()
}

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
