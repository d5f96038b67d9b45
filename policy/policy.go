// Package policy holds keyform's resolved trust policy: plain Go data that
// the schema package produces from HCL and that renderers, planners and
// patchers consume. It deliberately has no HCL or cty types, so importing it
// never pulls in the HCL parser.
package policy

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keyform/keyform/internal/hint"
)

// Pos is a source position, kept so that later stages (plan, apply) can point
// a user back at the declaration that caused something.
type Pos struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func (p Pos) String() string {
	if p.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Policy is a fully loaded, validated and resolved policy directory.
type Policy struct {
	// Dir is the policy directory as the user named it (for messages and
	// generated headers), not made absolute, so output does not depend on
	// where the repository is checked out.
	Dir        string
	Settings   Settings
	Catalogs   []*Catalog   // sorted by label
	Keys       []*Key       // sorted by label
	Targets    []*Target    // sorted by kind, then label
	Publishers []*Publisher // sorted by label
}

// Settings come from the optional top-level `keyform` block.
type Settings struct {
	// OutputDir is where `render` writes, relative to the policy dir.
	OutputDir string
	// ExpiryWarningDays is how long before `expires` validate starts warning.
	ExpiryWarningDays int
	// SealedDir is where sealed private keys live, relative to the policy dir.
	SealedDir string
}

// DefaultSettings are used for anything the keyform block leaves out.
var DefaultSettings = Settings{
	OutputDir:         "generated",
	ExpiryWarningDays: 30,
	SealedDir:         "sealed",
}

// Catalog is a binary cache (or a family of caches) whose keys are trusted together.
type Catalog struct {
	Label       string
	Description string
	// Substituters are the cache URLs, in declaration order.
	Substituters []string
	Pos          Pos
}

// KeyState is a key's lifecycle state.
type KeyState string

const (
	Active  KeyState = "active"
	Retired KeyState = "retired"
)

// Key is one Nix signing key. Only public material is ever held here.
type Key struct {
	Label string
	// Name is the Nix key name, the part before the colon.
	Name string
	// Catalog is the label of the catalog the key belongs to, or "".
	Catalog string
	// PublicKey is the Nix public key text "NAME:BASE64", or "" while the
	// key is pending generation (only allowed when loading for keygen).
	PublicKey string
	// Fingerprint is "SHA256:..." of the public key bytes, or "" when pending.
	Fingerprint string
	// PublicKeyFile is the declared file, relative to the policy dir, or ""
	// when the key is inline.
	PublicKeyFile string
	// PrivateKeyPath is absolute; "" when the policy does not say.
	PrivateKeyPath string
	// SealedFile is where `keyform seal` writes the age-encrypted private
	// key, relative to the policy dir: <sealed_dir>/<label>.age.
	SealedFile string
	State      KeyState
	// Expires is the zero time when the key does not expire.
	Expires time.Time
	Pos     Pos
}

// Pending reports whether the key still has to be generated.
func (k *Key) Pending() bool { return k.PublicKey == "" }

// An expired key stays trusted wherever it was: the date is a deadline for
// the people who rotate keys, not for the machines that trust them. So an
// expired active key fails validate, check and plan (CI must force the
// rotation), is a warning for the commands that involve it, and changes
// nothing for the others (README, "Expiry").

// DaysLeft is the number of days from now's date (in UTC) to the key's
// expires date: 0 on that day, negative once it has passed. It is only
// meaningful when the key has an expires date.
func (k *Key) DaysLeft(now time.Time) int {
	today := now.UTC().Truncate(24 * time.Hour)
	return int(k.Expires.Sub(today).Hours() / 24)
}

// Expired reports whether k is an active key whose expires date has passed
// on now's date: the key expires at the end of its expires day.
func (k *Key) Expired(now time.Time) bool {
	return k.State == Active && !k.Expires.IsZero() && k.DaysLeft(now) < 0
}

// Status is the key's state as listings show it: "pending" (not generated
// yet), "retired", "expired" (active, past its date) or "active".
func (k *Key) Status(now time.Time) string {
	switch {
	case k.Pending():
		return "pending"
	case k.State == Retired:
		return "retired"
	case k.Expired(now):
		return "expired"
	}
	return string(k.State)
}

// ExpiredNote says that k expired and what to do, for diagnostics and for
// the warnings of commands that involve k.
func (k *Key) ExpiredNote() string {
	return fmt.Sprintf("Key %q expired on %s. Rotate it (keyform rotate %s) and retire it (keyform retire %s) once every machine trusts its successor, or extend expires if that is the policy.",
		k.Label, k.Expires.Format(time.DateOnly), k.Label, k.Label)
}

// ExpiredKeys returns the keys of ks that are expired on now's date, in
// the order of ks: what a command that involves ks warns about.
func ExpiredKeys(ks []*Key, now time.Time) []*Key {
	var out []*Key
	for _, k := range ks {
		if k.Expired(now) {
			out = append(out, k)
		}
	}
	return out
}

// Kind is a target kind.
type Kind string

const (
	NixOS       Kind = "nixos"
	Darwin      Kind = "darwin"
	HomeManager Kind = "home_manager"
	NixConf     Kind = "nixconf"
)

// Kinds lists every target kind in a stable order.
var Kinds = []Kind{NixOS, Darwin, HomeManager, NixConf}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Ref is a reference as declared in a target's trust list.
type Ref struct {
	Type  string // "catalog" or "key"
	Label string
}

func (r Ref) String() string { return r.Type + "." + r.Label }

// Target is one machine class that must trust a set of keys.
type Target struct {
	Kind  Kind
	Label string
	// Exclusive (nixos, darwin) replaces the system key list instead of
	// appending to it.
	Exclusive bool
	// Output overrides the rendered file's path, relative to the output dir.
	Output string
	// Path is the nix.conf file `apply` patches (nixconf targets).
	Path  string
	Trust []Ref
	// Keys are the active keys the target trusts, de-duplicated and sorted
	// by SortKeys.
	Keys []*Key
	// Retired are the retired keys the target must no longer trust: every
	// retired key of the policy, sorted by SortKeys.
	Retired []*Key
	// Substituters are the substituters of the catalogs named in Trust,
	// de-duplicated, in trust-list order (Nix tries them in order when
	// their priorities tie, so the policy author chooses).
	Substituters []string
	Pos          Pos
}

// ID is the target's address, "kind.label", as used on the command line.
func (t *Target) ID() string { return string(t.Kind) + "." + t.Label }

// Publisher is a person or machine that signs with private keys.
type Publisher struct {
	Label string
	Keys  []string // key labels, sorted
	// DefaultKey is the first key listed in keys: the one Flox signs with
	// unless a catalog needs another.
	DefaultKey string
	Recipients []string // age or SSH public keys, as declared
	Flox       bool
	// PrivateKeyPath is the absolute path of the publisher's one key, or
	// "". Only a publisher of one key may set it.
	PrivateKeyPath string
	// PrivateKeyDir is an absolute directory holding each of the
	// publisher's keys as KeyFileName, or "".
	PrivateKeyDir string
	Pos           Pos
}

// KeyPath is the absolute path where the publisher keeps k's private key,
// and the only place that decides it: unseal, keys check, publisher setup,
// publisher flox and the rendered Flox files all ask here (README, "Where
// private keys live"). It is the publisher's private_key_path, else
// private_key_dir/KeyFileName(k), else the key's own private_key_path,
// else "".
func (pub *Publisher) KeyPath(k *Key) string {
	switch {
	case pub.PrivateKeyPath != "":
		return pub.PrivateKeyPath
	case pub.PrivateKeyDir != "":
		return filepath.Join(pub.PrivateKeyDir, KeyFileName(k))
	}
	return k.PrivateKeyPath
}

// KeyFileName is the name of k's private key file in a private_key_dir:
// its Nix key name, unique in a policy and made of characters that are
// safe in a file name, with ".key".
func KeyFileName(k *Key) string { return k.Name + ".key" }

// WithKeyDir returns a copy of pub that keeps its keys in dir instead of
// where the policy says ("keyform publisher setup --out-dir").
func (pub *Publisher) WithKeyDir(dir string) *Publisher {
	c := *pub
	c.PrivateKeyPath, c.PrivateKeyDir = "", dir
	return &c
}

// KeysOf returns the keys pub signs with, in the order of pub.Keys.
func (p *Policy) KeysOf(pub *Publisher) []*Key {
	var ks []*Key
	for _, label := range pub.Keys {
		if k := p.Key(label); k != nil {
			ks = append(ks, k)
		}
	}
	return ks
}

// KeyPathFor returns where k's private key is installed on the machine of
// the publisher labelled publisher (Publisher.KeyPath). With publisher "",
// it is the path every publisher of k uses: the key's private_key_path
// unless they override it, and the key's own for a key nobody publishes.
// It fails when the publisher does not sign with k, or when k's publishers
// keep it at different paths, naming them. "" means no path is set.
func (p *Policy) KeyPathFor(k *Key, publisher string) (string, error) {
	pubs := p.PublishersOf(k.Label)
	if publisher != "" {
		for _, pub := range pubs {
			if pub.Label == publisher {
				return pub.KeyPath(k), nil
			}
		}
		if p.Publisher(publisher) == nil {
			return "", hint.Wrap(fmt.Errorf("no publisher %q in the policy", publisher), "%s", publishersHint(k, pubs))
		}
		return "", hint.Wrap(fmt.Errorf("publisher %s does not sign with key %s", publisher, k.Label), "%s", publishersHint(k, pubs))
	}
	paths := map[string][]string{}
	for _, pub := range pubs {
		if path := pub.KeyPath(k); path != "" {
			paths[path] = append(paths[path], pub.Label)
		}
	}
	switch len(paths) {
	case 0:
		return k.PrivateKeyPath, nil
	case 1:
		for path := range paths {
			return path, nil
		}
	}
	var at []string
	for _, pub := range pubs {
		at = append(at, pub.Label+": "+pub.KeyPath(k))
	}
	return "", hint.Wrap(fmt.Errorf("the publishers of key %s keep it at different paths (%s)", k.Label, strings.Join(at, ", ")),
		"name yours with --publisher NAME")
}

func publishersHint(k *Key, pubs []*Publisher) string {
	if len(pubs) == 0 {
		return fmt.Sprintf("no publisher signs with key %s; leave out --publisher to use the key's private_key_path", k.Label)
	}
	labels := make([]string, len(pubs))
	for i, pub := range pubs {
		labels[i] = pub.Label
	}
	return fmt.Sprintf("the publishers of key %s are: %s", k.Label, strings.Join(labels, ", "))
}

// SortKeys orders keys as every rendered output lists them: by catalog
// label (keys without a catalog first), then by Nix key name.
func SortKeys(ks []*Key) { slices.SortFunc(ks, CompareKeys) }

// CompareKeys is the order of SortKeys: catalog label, Nix key name, then
// label (which is unique).
func CompareKeys(a, b *Key) int {
	if c := cmp.Compare(a.Catalog, b.Catalog); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return cmp.Compare(a.Label, b.Label)
}

// Key returns the key with the given label, or nil.
func (p *Policy) Key(label string) *Key {
	i, ok := slices.BinarySearchFunc(p.Keys, label, func(k *Key, l string) int { return cmp.Compare(k.Label, l) })
	if !ok {
		return nil
	}
	return p.Keys[i]
}

// Catalog returns the catalog with the given label, or nil.
func (p *Policy) Catalog(label string) *Catalog {
	i, ok := slices.BinarySearchFunc(p.Catalogs, label, func(c *Catalog, l string) int { return cmp.Compare(c.Label, l) })
	if !ok {
		return nil
	}
	return p.Catalogs[i]
}

// Target returns the target with the given ID ("kind.label"), or nil.
func (p *Policy) Target(id string) *Target {
	for _, t := range p.Targets {
		if t.ID() == id {
			return t
		}
	}
	return nil
}

// PublishersOf returns the publishers that sign with the key labelled
// label, in label order.
func (p *Policy) PublishersOf(label string) []*Publisher {
	var pubs []*Publisher
	for _, pub := range p.Publishers {
		if slices.Contains(pub.Keys, label) {
			pubs = append(pubs, pub)
		}
	}
	return pubs
}

// Publisher returns the publisher with the given label, or nil.
func (p *Policy) Publisher(label string) *Publisher {
	for _, pub := range p.Publishers {
		if pub.Label == label {
			return pub
		}
	}
	return nil
}

// TrustingDirectly returns the targets whose trust list names k itself
// (key.LABEL), not only its catalog, in target order. Retiring k needs
// them to drop it first: a retired key may not be trusted.
func (p *Policy) TrustingDirectly(k *Key) []*Target {
	ref := Ref{Type: "key", Label: k.Label}
	var ts []*Target
	for _, t := range p.Targets {
		if slices.Contains(t.Trust, ref) {
			ts = append(ts, t)
		}
	}
	return ts
}

// LastActive reports whether k is the only active key of its catalog, so
// that retiring it leaves the catalog's caches trusted nowhere. A key
// without a catalog is never the last of one.
func (p *Policy) LastActive(k *Key) bool {
	if k.Catalog == "" {
		return false
	}
	for _, o := range p.Keys {
		if o != k && o.Catalog == k.Catalog && o.State == Active {
			return false
		}
	}
	return true
}

// TrustedBy maps each key to the IDs of the targets trusting it, in target
// order, in one pass over the targets.
func (p *Policy) TrustedBy() map[*Key][]string {
	m := map[*Key][]string{}
	for _, t := range p.Targets {
		for _, k := range t.Keys {
			m[k] = append(m[k], t.ID())
		}
	}
	return m
}
