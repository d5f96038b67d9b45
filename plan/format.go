package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// Text (text.go) and Markdown (markdown.go) say the same things in two
// shapes. sections walks the plan's changes once and turns them into
// facts; the two forms only decide how each fact reads and where it goes.
// A field added to a change is added to the walk, and both forms must then
// say how they show its fact: they panic on a kind they do not know, which
// the tests reach.

// A section is one kind of change: targets, keys, catalogs or publishers.
type section struct {
	title   string // "Targets"
	entries []entry
}

// An entry is one changed target, key, catalog or publisher.
type entry struct {
	label  string // the target ID or the key, catalog or publisher label
	ref    string // how the text form names it: "nixos.a", "key.a", ...
	change string // Added, Created, Removed or Modified
	// now is, for keys, the key after the change, or before its removal.
	now   *Key
	facts []fact
}

// A fact is one thing an entry's change says.
type fact struct {
	kind factKind
	// added tells, for facts about a list, whether the item was added to
	// it or removed.
	added bool
	// value is the item: a substituter, trust entry, key label or
	// recipient.
	value string
	ref   KeyRef // trustsKey
	key   *Key   // keyCreated, keyRemoved
	field string // keyField: FieldState, FieldName, ...
	// before and after are a setting's values, spelled as both forms show
	// them: "on" or "off", "none", "never" or "inline" for unset; but a
	// key's catalog stays a bare label ("" for none), which the forms
	// spell differently.
	before, after string
	n             int // trustedNow, activeKeysNow
}

type factKind int

const (
	trustsKey     factKind = iota // ref is newly trusted, or no longer
	substituter                   // value
	trustEntry                    // value: a declared trust entry ("catalog.acme")
	exclusive                     // before, after
	path                          // before, after
	trustedNow                    // n: keys the target trusts now; not for removed targets
	keyCreated                    // key
	keyRemoved                    // key, as it was
	keyField                      // field, before, after
	activeKeysNow                 // n: the catalog's active keys now; not for removed catalogs
	signsWith                     // value: a key label the publisher signs with, or no longer
	recipient                     // value
	flox                          // before, after

	numFactKinds // how many kinds there are, for the tests
)

// sections walks the plan's changes in the order both forms list them.
func (p *Plan) sections() []section {
	return []section{
		{"Targets", targetEntries(p.Targets)},
		{"Keys", keyEntries(p.Keys)},
		{"Catalogs", catalogEntries(p.Catalogs)},
		{"Publishers", publisherEntries(p.Publishers)},
	}
}

func targetEntries(changes []TargetChange) []entry {
	var es []entry
	for _, t := range changes {
		e := entry{label: t.ID, ref: t.ID, change: t.Change}
		for _, k := range t.KeysAdded {
			e.facts = append(e.facts, fact{kind: trustsKey, added: true, ref: k})
		}
		for _, k := range t.KeysRemoved {
			e.facts = append(e.facts, fact{kind: trustsKey, ref: k})
		}
		e.facts = appendList(e.facts, substituter, t.SubstitutersAdded, t.SubstitutersRemoved)
		e.facts = appendList(e.facts, trustEntry, t.TrustAdded, t.TrustRemoved)
		if t.Exclusive != nil {
			e.facts = append(e.facts, fact{kind: exclusive, before: onOff(t.Exclusive.Before), after: onOff(t.Exclusive.After)})
		}
		if t.Path != nil {
			e.facts = append(e.facts, fact{kind: path, before: orNone(t.Path.Before), after: orNone(t.Path.After)})
		}
		if t.Change != Removed {
			e.facts = append(e.facts, fact{kind: trustedNow, n: t.TrustedAfter})
		}
		es = append(es, e)
	}
	return es
}

func keyEntries(changes []KeyChange) []entry {
	var es []entry
	for _, k := range changes {
		e := entry{label: k.Label, ref: "key." + k.Label, change: k.Change, now: k.After}
		if e.now == nil {
			e.now = k.Before
		}
		switch k.Change {
		case Created:
			e.facts = append(e.facts, fact{kind: keyCreated, key: k.After})
		case Removed:
			e.facts = append(e.facts, fact{kind: keyRemoved, key: k.Before})
		default:
			for _, f := range k.Fields {
				e.facts = append(e.facts, keyFieldFact(f, k.Before, k.After))
			}
		}
		es = append(es, e)
	}
	return es
}

func keyFieldFact(field string, b, a *Key) fact {
	f := fact{kind: keyField, field: field}
	switch field {
	case FieldState:
		f.before, f.after = b.State, a.State
	case FieldName:
		f.before, f.after = b.Name, a.Name
	case FieldPublicKey:
		f.before, f.after = b.Fingerprint, a.Fingerprint
	case FieldCatalog:
		f.before, f.after = b.Catalog, a.Catalog
	case FieldExpires:
		f.before, f.after = orNever(b.Expires), orNever(a.Expires)
	case FieldPublicKeyFile:
		f.before, f.after = orInline(b.PublicKeyFile), orInline(a.PublicKeyFile)
	case FieldPrivateKeyPath:
		f.before, f.after = orNone(b.PrivateKeyPath), orNone(a.PrivateKeyPath)
	default:
		panic("plan: no fact for key field " + field)
	}
	return f
}

func catalogEntries(changes []CatalogChange) []entry {
	var es []entry
	for _, c := range changes {
		e := entry{label: c.Label, ref: "catalog." + c.Label, change: c.Change}
		e.facts = appendList(e.facts, substituter, c.SubstitutersAdded, c.SubstitutersRemoved)
		if c.Change != Removed {
			e.facts = append(e.facts, fact{kind: activeKeysNow, n: c.ActiveKeysAfter})
		}
		es = append(es, e)
	}
	return es
}

func publisherEntries(changes []PublisherChange) []entry {
	var es []entry
	for _, pc := range changes {
		e := entry{label: pc.Label, ref: "publisher." + pc.Label, change: pc.Change}
		e.facts = appendList(e.facts, signsWith, pc.KeysAdded, pc.KeysRemoved)
		e.facts = appendList(e.facts, recipient, pc.RecipientsAdded, pc.RecipientsRemoved)
		if pc.Flox != nil {
			e.facts = append(e.facts, fact{kind: flox, before: onOff(pc.Flox.Before), after: onOff(pc.Flox.After)})
		}
		es = append(es, e)
	}
	return es
}

// appendList appends a fact of kind for each item added, then for each
// removed.
func appendList(facts []fact, kind factKind, added, removed []string) []fact {
	for _, v := range added {
		facts = append(facts, fact{kind: kind, added: true, value: v})
	}
	for _, v := range removed {
		facts = append(facts, fact{kind: kind, value: v})
	}
	return facts
}

func unknownFact(form string, f fact) string {
	panic(fmt.Sprintf("plan: the %s form does not show facts of kind %d", form, f.kind))
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

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
