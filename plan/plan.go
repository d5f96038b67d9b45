// Package plan compares two resolved policies and says, for a reviewer,
// what changes on the machines: which targets gain or lose trust in which
// keys, what happens to each key and catalog, and which changes are risky.
//
// Compare is a pure function of two policy.Policy values; Text, Markdown and
// JSON render the result. Nothing here reads HCL, and the only files read
// are the records of sealed keys (SealNotes); nothing here can print a
// secret: a policy holds only public keys and fingerprints.
//
// The JSON form is a stable interface (see docs/plan.md): "version" is 1,
// fields are only ever added, and every list is present (possibly empty).
package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keyform/keyform/policy"
)

// Version is the version of the JSON schema.
const Version = 1

// Plan is the difference between a base policy and a head policy.
type Plan struct {
	Version int `json:"version"`
	// Base and Head name what was compared, for the reader ("origin/main",
	// "working tree"); Compare leaves them empty for the caller to set.
	Base     string          `json:"base"`
	Head     string          `json:"head"`
	Changed  bool            `json:"changed"`
	Notes    []Note          `json:"notes"`
	Targets  []TargetChange  `json:"targets"`
	Keys     []KeyChange     `json:"keys"`
	Catalogs []CatalogChange `json:"catalogs"`
	// Publishers lists changes to who holds which private keys.
	Publishers []PublisherChange `json:"publishers"`
}

// Change kinds.
const (
	Added    = "added"
	Removed  = "removed"
	Modified = "modified"
	Created  = "created" // keys are created, not added
)

// Note levels, most severe first.
const (
	Danger  = "danger"
	Warning = "warning"
	Info    = "info"
)

// Note is something a reviewer must notice.
type Note struct {
	Level string `json:"level"`
	// Code is a stable identifier such as "public_key_replaced"; docs/plan.md
	// lists them. Other packages may add notes with their own codes.
	Code string `json:"code"`
	// Subject is what the note is about: "key.LABEL", "catalog.LABEL" or a
	// target ID "KIND.LABEL".
	Subject string `json:"subject"`
	Message string `json:"message"`
}

// KeyRef is a key as a target trusts it.
type KeyRef struct {
	Label       string `json:"label"`
	Name        string `json:"name"`
	Catalog     string `json:"catalog,omitempty"`
	Fingerprint string `json:"fingerprint"`
	PublicKey   string `json:"public_key"`
}

// TargetChange is one target whose trust changed.
type TargetChange struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Label  string `json:"label"`
	Change string `json:"change"` // added, removed, modified
	// KeysAdded are newly trusted keys, KeysRemoved keys no longer trusted,
	// compared by public key, in policy.SortKeys order.
	KeysAdded   []KeyRef `json:"keys_added"`
	KeysRemoved []KeyRef `json:"keys_removed"`
	// TrustedAfter is how many keys the target trusts in the head policy.
	TrustedAfter        int      `json:"trusted_after"`
	SubstitutersAdded   []string `json:"substituters_added"`
	SubstitutersRemoved []string `json:"substituters_removed"`
	// TrustAdded and TrustRemoved are the declared trust list entries
	// ("catalog.acme", "key.acme_1"), which can change without changing
	// the keys trusted today.
	TrustAdded   []string `json:"trust_added"`
	TrustRemoved []string `json:"trust_removed"`
	// Exclusive and Path are set only when they change (for an added
	// target: when exclusive is on, and for nixconf targets the path).
	Exclusive *BoolChange   `json:"exclusive,omitempty"`
	Path      *StringChange `json:"path,omitempty"`
}

// BoolChange is a setting's value before and after.
type BoolChange struct {
	Before bool `json:"before"`
	After  bool `json:"after"`
}

// StringChange is a setting's value before and after ("" for unset).
type StringChange struct {
	Before string `json:"before"`
	After  string `json:"after"`
}

// Key is the public view of a key on one side of the comparison.
type Key struct {
	Label          string `json:"label"`
	Name           string `json:"name"`
	Catalog        string `json:"catalog,omitempty"`
	State          string `json:"state"`
	PublicKey      string `json:"public_key"`
	Fingerprint    string `json:"fingerprint"`
	PublicKeyFile  string `json:"public_key_file,omitempty"`
	PrivateKeyPath string `json:"private_key_path,omitempty"`
	Expires        string `json:"expires,omitempty"`
}

// Key fields that KeyChange.Fields names, in the order they are listed.
const (
	FieldState          = "state"
	FieldName           = "name"
	FieldPublicKey      = "public_key" // the key material (fingerprint) changed
	FieldCatalog        = "catalog"
	FieldExpires        = "expires"
	FieldPublicKeyFile  = "public_key_file"
	FieldPrivateKeyPath = "private_key_path"
)

// KeyChange is one key that was created, removed or modified.
type KeyChange struct {
	Label  string `json:"label"`
	Change string `json:"change"` // created, removed, modified
	// Fields lists what differs for a modified key (FieldState, ...).
	Fields []string `json:"fields"`
	Before *Key     `json:"before"` // null when created
	After  *Key     `json:"after"`  // null when removed
}

// CatalogChange is a catalog added, removed, or whose substituters changed.
type CatalogChange struct {
	Label               string   `json:"label"`
	Change              string   `json:"change"`
	SubstitutersAdded   []string `json:"substituters_added"`
	SubstitutersRemoved []string `json:"substituters_removed"`
	// ActiveKeysAfter is how many active keys the catalog has in the head
	// policy.
	ActiveKeysAfter int `json:"active_keys_after"`
}

// Compare returns what changes from base to head. A nil policy is an empty
// one (nothing declared), so Compare(nil, head) shows everything as new.
// Descriptions, comments and formatting are not changes: the plan covers
// what machines and publishers see.
func Compare(base, head *policy.Policy) *Plan {
	if base == nil {
		base = &policy.Policy{}
	}
	if head == nil {
		head = &policy.Policy{}
	}
	p := &Plan{Version: Version, Notes: []Note{}, Targets: []TargetChange{}, Keys: []KeyChange{}, Catalogs: []CatalogChange{}, Publishers: []PublisherChange{}}
	c := comparison{base: base, head: head, plan: p,
		baseActive: activeByCatalog(base), headActive: activeByCatalog(head)}
	c.keys()
	c.catalogs()
	c.targets()
	c.publishers()
	p.Changed = len(p.Targets)+len(p.Keys)+len(p.Catalogs)+len(p.Publishers) > 0
	p.AddNotes()
	return p
}

type comparison struct {
	base, head             *policy.Policy
	plan                   *Plan
	baseActive, headActive map[string][]*policy.Key
}

func activeByCatalog(p *policy.Policy) map[string][]*policy.Key {
	m := map[string][]*policy.Key{}
	for _, k := range p.Keys {
		if k.Catalog != "" && k.State == policy.Active {
			m[k.Catalog] = append(m[k.Catalog], k)
		}
	}
	return m
}

func (c *comparison) note(level, code, subject, format string, args ...any) {
	c.plan.Notes = append(c.plan.Notes, Note{Level: level, Code: code, Subject: subject, Message: fmt.Sprintf(format, args...)})
}

// AddNotes adds notes (for example from another package comparing
// publishers) and restores the notes' order: by level, most severe first,
// then subject, then code.
func (p *Plan) AddNotes(notes ...Note) {
	p.Notes = append(p.Notes, notes...)
	rank := func(l string) int { return slices.Index([]string{Danger, Warning, Info}, l) }
	slices.SortStableFunc(p.Notes, func(a, b Note) int {
		return cmp.Or(cmp.Compare(rank(a.Level), rank(b.Level)), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Code, b.Code))
	})
}

// Counts of risks by level, for summaries.
func (p *Plan) countNotes(level string) int {
	n := 0
	for _, note := range p.Notes {
		if note.Level == level {
			n++
		}
	}
	return n
}

func keyView(k *policy.Key) *Key {
	v := &Key{Label: k.Label, Name: k.Name, Catalog: k.Catalog, State: string(k.State), PublicKey: k.PublicKey,
		Fingerprint: k.Fingerprint, PublicKeyFile: k.PublicKeyFile, PrivateKeyPath: k.PrivateKeyPath}
	if !k.Expires.IsZero() {
		v.Expires = k.Expires.Format(time.DateOnly)
	}
	return v
}

func keyRef(k *policy.Key) KeyRef {
	return KeyRef{Label: k.Label, Name: k.Name, Catalog: k.Catalog, Fingerprint: k.Fingerprint, PublicKey: k.PublicKey}
}

func (c *comparison) keys() {
	labels := unionSorted(keyLabels(c.base.Keys), keyLabels(c.head.Keys))
	headFingerprints := map[string]bool{}
	for _, k := range c.head.Keys {
		headFingerprints[k.Fingerprint] = true
	}
	for _, label := range labels {
		b, h := c.base.Key(label), c.head.Key(label)
		subject := "key." + label
		switch {
		case b == nil:
			c.plan.Keys = append(c.plan.Keys, KeyChange{Label: label, Change: Created, Fields: []string{}, After: keyView(h)})
		case h == nil:
			c.plan.Keys = append(c.plan.Keys, KeyChange{Label: label, Change: Removed, Fields: []string{}, Before: keyView(b)})
			// A key deleted while active is dropped from rendered files,
			// but nothing tells a patched nix.conf to remove it; a retired
			// key is. (The same key material under a new label is only a
			// rename.)
			if b.State == policy.Active && !headFingerprints[b.Fingerprint] {
				c.note(Warning, "key_removed_while_active", subject,
					"%s was deleted while active. Machines whose nix.conf keyform patched keep trusting %s, because only retired keys are removed from them: retire it first (keyform retire %s), apply everywhere, then delete it.",
					subject, b.Name, label)
			}
		default:
			kc := c.keyFields(b, h)
			if len(kc.Fields) > 0 {
				c.plan.Keys = append(c.plan.Keys, kc)
			}
		}
	}
}

func (c *comparison) keyFields(b, h *policy.Key) KeyChange {
	bv, hv := keyView(b), keyView(h)
	kc := KeyChange{Label: b.Label, Change: Modified, Fields: []string{}, Before: bv, After: hv}
	subject := "key." + b.Label
	if bv.State != hv.State {
		kc.Fields = append(kc.Fields, FieldState)
		switch {
		case h.State == policy.Active:
			c.note(Danger, "key_reactivated", subject,
				"%s (%s) was retired and is active again. If it was retired because its private key leaked, every machine trusts the leaked key again.", subject, h.Name)
		case h.Catalog != "" && len(c.headActive[h.Catalog]) == 0:
			c.note(Danger, "last_active_key_retired", subject,
				"%s (%s) is retired while it is the only active key of catalog.%s. Add its successor first (keyform rotate %s), roll it out, then retire this key.", subject, h.Name, h.Catalog, h.Label)
		}
	}
	if bv.Name != hv.Name {
		kc.Fields = append(kc.Fields, FieldName)
		if bv.Fingerprint == hv.Fingerprint {
			c.note(Warning, "name_changed", subject,
				"%s keeps its key pair but changes its Nix name from %s to %s. Signatures carry the name, so paths signed as %s stop verifying on machines that get the new name.", subject, bv.Name, hv.Name, bv.Name)
		}
	}
	if bv.Fingerprint != hv.Fingerprint {
		kc.Fields = append(kc.Fields, FieldPublicKey)
		c.note(Danger, "public_key_replaced", subject,
			"The public key of %s (%s) is replaced in place: %s becomes %s. A changed public key under the same name is either a rotation done wrong or an attack. Machines that get the new key reject everything signed with the old one. To change keys, use keyform rotate %s (a new key under a new name) and keep this one.",
			subject, hv.Name, bv.Fingerprint, hv.Fingerprint, b.Label)
	}
	if bv.Catalog != hv.Catalog {
		kc.Fields = append(kc.Fields, FieldCatalog)
	}
	if bv.Expires != hv.Expires {
		kc.Fields = append(kc.Fields, FieldExpires)
	}
	if bv.PublicKeyFile != hv.PublicKeyFile {
		kc.Fields = append(kc.Fields, FieldPublicKeyFile)
	}
	if bv.PrivateKeyPath != hv.PrivateKeyPath {
		kc.Fields = append(kc.Fields, FieldPrivateKeyPath)
		if bv.PrivateKeyPath != "" {
			// The paths are in the key's before and after; messages hold
			// only names, so they read the same on every machine.
			c.note(Warning, "private_key_path_moved", subject,
				"The private key path of %s changes. keyform never moves a secret: every publisher must move the file to the new path themselves, or signing with %s fails.", subject, hv.Name)
		}
	}
	return kc
}

func (c *comparison) catalogs() {
	labels := unionSorted(catalogLabels(c.base.Catalogs), catalogLabels(c.head.Catalogs))
	for _, label := range labels {
		b, h := c.base.Catalog(label), c.head.Catalog(label)
		cc := CatalogChange{Label: label, SubstitutersAdded: []string{}, SubstitutersRemoved: []string{}, ActiveKeysAfter: len(c.headActive[label])}
		switch {
		case b == nil:
			cc.Change = Added
			cc.SubstitutersAdded = append(cc.SubstitutersAdded, h.Substituters...)
		case h == nil:
			cc.Change = Removed
			cc.SubstitutersRemoved = append(cc.SubstitutersRemoved, b.Substituters...)
		default:
			cc.Change = Modified
			cc.SubstitutersAdded, cc.SubstitutersRemoved = diffStrings(b.Substituters, h.Substituters)
		}
		if cc.Change != Modified || len(cc.SubstitutersAdded)+len(cc.SubstitutersRemoved) > 0 {
			c.plan.Catalogs = append(c.plan.Catalogs, cc)
		}
		if h != nil && len(c.headActive[label]) == 0 && (b == nil || len(c.baseActive[label]) > 0) {
			what := "has no active key left"
			if b == nil {
				what = "is new but has no active key"
			}
			c.note(Danger, "catalog_without_active_key", "catalog."+label,
				"catalog.%s %s: nothing signed for its caches is trusted anywhere, and targets that trust catalog.%s stop trusting it. Add a key with catalog = catalog.%s (keyform rotate adds a successor).", label, what, label, label)
		}
	}
}

func (c *comparison) targets() {
	var ids []string
	for _, t := range c.base.Targets {
		ids = append(ids, t.ID())
	}
	for _, t := range c.head.Targets {
		ids = append(ids, t.ID())
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	baseByID, headByID := targetsByID(c.base), targetsByID(c.head)
	for _, id := range ids {
		b, h := baseByID[id], headByID[id]
		var tc TargetChange
		switch {
		case b == nil:
			tc = c.targetDiff(id, &policy.Target{Kind: h.Kind, Label: h.Label}, h)
			tc.Change = Added
			if h.Exclusive {
				tc.Exclusive = &BoolChange{false, true}
			}
			if h.Path != "" {
				tc.Path = &StringChange{"", h.Path}
			}
		case h == nil:
			tc = c.targetDiff(id, b, &policy.Target{Kind: b.Kind, Label: b.Label})
			tc.Change = Removed
			c.note(Info, "target_removed", id,
				"keyform no longer renders or applies %s. Its machines keep the keys they trust today until you change them by hand (remove the imported module, or the keys from nix.conf).", id)
		default:
			tc = c.targetDiff(id, b, h)
			tc.Change = Modified
			if b.Exclusive != h.Exclusive {
				tc.Exclusive = &BoolChange{b.Exclusive, h.Exclusive}
			}
			if b.Path != h.Path {
				tc.Path = &StringChange{b.Path, h.Path}
			}
			if len(tc.KeysAdded)+len(tc.KeysRemoved)+len(tc.SubstitutersAdded)+len(tc.SubstitutersRemoved)+
				len(tc.TrustAdded)+len(tc.TrustRemoved) == 0 && tc.Exclusive == nil && tc.Path == nil {
				continue
			}
		}
		c.plan.Targets = append(c.plan.Targets, tc)
		if h == nil {
			continue
		}
		if len(h.Keys) == 0 && (b == nil || len(b.Keys) > 0) {
			c.note(Danger, "target_loses_all_trust", id,
				"%s trusts no active key any more: its machines will refuse every path from the policy's caches. Check what its trust list resolves to.", id)
		}
		if h.Exclusive && (b == nil || !b.Exclusive) {
			c.note(Warning, "exclusive_enabled", id,
				"%s is exclusive: its key list replaces the system's trusted-public-keys, so keys the policy does not list (including cache.nixos.org-1, unless trusted here) stop being trusted on its machines.", id)
		}
	}
}

// targetsByID indexes p's targets: looking each up with p.Target, a linear
// scan, made comparing large policies quadratic in the number of targets.
func targetsByID(p *policy.Policy) map[string]*policy.Target {
	m := make(map[string]*policy.Target, len(p.Targets))
	for _, t := range p.Targets {
		m[t.ID()] = t
	}
	return m
}

func (c *comparison) targetDiff(id string, b, h *policy.Target) TargetChange {
	tc := TargetChange{ID: id, Kind: string(h.Kind), Label: h.Label, TrustedAfter: len(h.Keys)}
	tc.KeysAdded, tc.KeysRemoved = diffKeys(b.Keys, h.Keys)
	tc.SubstitutersAdded, tc.SubstitutersRemoved = diffStrings(b.Substituters, h.Substituters)
	tc.TrustAdded, tc.TrustRemoved = diffStrings(refStrings(b.Trust), refStrings(h.Trust))
	return tc
}

// diffKeys compares trusted keys by public key, which is what machines
// see: a key replaced in place shows as one removed and one added.
//
// A target of a large policy trusts hundreds of keys, and scanning one list
// for each key of the other made comparing large policies quadratic. Both
// lists are in policy.SortKeys order and mostly equal, so they are walked
// together; only the keys that differ there are looked up, in a set of the
// other list's public keys.
func diffKeys(before, after []*policy.Key) (added, removed []KeyRef) {
	var restBefore, restAfter []*policy.Key
	i, j := 0, 0
	for i < len(before) && j < len(after) {
		b, a := before[i], after[j]
		switch c := policy.CompareKeys(b, a); {
		case c == 0 && b.PublicKey == a.PublicKey:
			i, j = i+1, j+1
		case c == 0:
			restBefore, restAfter = append(restBefore, b), append(restAfter, a)
			i, j = i+1, j+1
		case c < 0:
			restBefore = append(restBefore, b)
			i++
		default:
			restAfter = append(restAfter, a)
			j++
		}
	}
	restBefore = append(restBefore, before[i:]...)
	restAfter = append(restAfter, after[j:]...)
	publicKeys := func(ks []*policy.Key) map[string]bool {
		m := make(map[string]bool, len(ks))
		for _, k := range ks {
			m[k.PublicKey] = true
		}
		return m
	}
	added, removed = []KeyRef{}, []KeyRef{}
	if len(restAfter) > 0 {
		inBefore := publicKeys(before)
		for _, k := range restAfter {
			if !inBefore[k.PublicKey] {
				added = append(added, keyRef(k))
			}
		}
	}
	if len(restBefore) > 0 {
		inAfter := publicKeys(after)
		for _, k := range restBefore {
			if !inAfter[k.PublicKey] {
				removed = append(removed, keyRef(k))
			}
		}
	}
	return added, removed
}

// diffStrings returns what after adds to before and what it drops, each in
// its own list's order.
func diffStrings(before, after []string) (added, removed []string) {
	set := func(ss []string) map[string]bool {
		m := make(map[string]bool, len(ss))
		for _, s := range ss {
			m[s] = true
		}
		return m
	}
	inBefore, inAfter := set(before), set(after)
	added, removed = []string{}, []string{}
	for _, s := range after {
		if !inBefore[s] {
			added = append(added, s)
		}
	}
	for _, s := range before {
		if !inAfter[s] {
			removed = append(removed, s)
		}
	}
	return added, removed
}

func refStrings(refs []policy.Ref) []string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return s
}

func keyLabels(ks []*policy.Key) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Label
	}
	return out
}

func catalogLabels(cs []*policy.Catalog) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Label
	}
	return out
}

func unionSorted(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// Summary is a one-line count of the changes, for headers and logs.
func (p *Plan) Summary() string {
	if !p.Changed {
		return "no changes"
	}
	var parts []string
	count := func(n int, one, many string, kinds map[string]int, order ...string) {
		if n == 0 {
			return
		}
		s := fmt.Sprintf("%d %s", n, map[bool]string{true: one, false: many}[n == 1])
		var detail []string
		for _, k := range order {
			if kinds[k] > 0 {
				detail = append(detail, fmt.Sprintf("%d %s", kinds[k], k))
			}
		}
		parts = append(parts, s+" ("+strings.Join(detail, ", ")+")")
	}
	tk := map[string]int{}
	for _, t := range p.Targets {
		tk[t.Change]++
	}
	kk := map[string]int{}
	for _, k := range p.Keys {
		kk[k.Change]++
	}
	ck := map[string]int{}
	for _, c := range p.Catalogs {
		ck[c.Change]++
	}
	pk := map[string]int{}
	for _, pc := range p.Publishers {
		pk[pc.Change]++
	}
	count(len(p.Targets), "target", "targets", tk, Added, Removed, Modified)
	count(len(p.Keys), "key", "keys", kk, Created, Removed, Modified)
	count(len(p.Catalogs), "catalog", "catalogs", ck, Added, Removed, Modified)
	count(len(p.Publishers), "publisher", "publishers", pk, Added, Removed, Modified)
	s := strings.Join(parts, ", ")
	if d, w := p.countNotes(Danger), p.countNotes(Warning); d+w > 0 {
		var r []string
		if d > 0 {
			r = append(r, fmt.Sprintf("%d danger", d))
		}
		if w > 0 {
			r = append(r, fmt.Sprintf("%d %s", w, map[bool]string{true: "warning", false: "warnings"}[w == 1]))
		}
		s += "; risks: " + strings.Join(r, ", ")
	} else {
		s += "; no risks flagged"
	}
	return s
}
