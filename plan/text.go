package plan

import (
	"bytes"
	"fmt"
	"strings"
)

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
	for _, s := range p.sections() {
		if len(s.entries) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s:\n", s.title)
		for _, e := range s.entries {
			fmt.Fprintf(&b, "  %s %s (%s)\n", sign(e.change), e.ref, changeWord(e))
			for _, f := range e.facts {
				fmt.Fprintf(&b, "      %s\n", textFact(f))
			}
		}
	}
	return b.Bytes()
}

// textFact is a fact as one line of the text form.
func textFact(f fact) string {
	switch f.kind {
	case trustsKey:
		return fmt.Sprintf("%s trusts %s (key.%s, %s)", sign(added(f)), f.ref.Name, f.ref.Label, f.ref.Fingerprint)
	case substituter:
		return fmt.Sprintf("%s substituter %s", sign(added(f)), f.value)
	case trustEntry:
		return fmt.Sprintf("%s trust entry %s", sign(added(f)), f.value)
	case exclusive:
		return fmt.Sprintf("exclusive: %s -> %s", f.before, f.after)
	case path:
		return fmt.Sprintf("path: %s -> %s", f.before, f.after)
	case trustedNow:
		return fmt.Sprintf("trusts %s now", plural(f.n, "key", "keys"))
	case keyCreated:
		return describeKey(f.key)
	case keyRemoved:
		return "was " + describeKey(f.key)
	case keyField:
		switch f.field {
		case FieldPublicKey:
			return fmt.Sprintf("public key: %s -> %s", f.before, f.after)
		case FieldCatalog:
			return fmt.Sprintf("catalog: %s -> %s", catalogRef(f.before), catalogRef(f.after))
		}
		return fmt.Sprintf("%s: %s -> %s", f.field, f.before, f.after)
	case activeKeysNow:
		return plural(f.n, "active key", "active keys") + " now"
	case signsWith:
		return fmt.Sprintf("%s signs with key.%s", sign(added(f)), f.value)
	case recipient:
		return fmt.Sprintf("%s recipient %s", sign(added(f)), f.value)
	case flox:
		return fmt.Sprintf("flox: %s -> %s", f.before, f.after)
	}
	return unknownFact("text", f)
}

// changeWord is what happened to an entry, in one word or phrase: for a
// modified key, the change that matters most.
func changeWord(e entry) string {
	if e.change != Modified {
		return e.change
	}
	word := Modified
	for _, f := range e.facts {
		switch {
		case f.kind != keyField:
		case f.field == FieldPublicKey:
			return "PUBLIC KEY REPLACED"
		case f.field == FieldState && f.after == "retired":
			word = "retired"
		case f.field == FieldState:
			word = "reactivated"
		}
	}
	return word
}

func added(f fact) string {
	if f.added {
		return Added
	}
	return Removed
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
