package seal

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// Entry is one recipient of a sealed key and the publishers who declared it.
type Entry struct {
	Publishers []string // labels, sorted
	Recipient  string   // as declared
}

// Record describes a sealed file: the LABEL.recipients file next to
// LABEL.age.
type Record struct {
	Key       string // key label
	PublicKey string // the Nix public key of the sealed secret
	SHA256    string // hex SHA-256 of the sealed (.age) file's bytes
	Entries   []Entry
}

// RecordPath returns the record file that belongs to a sealed file:
// sealed/acme.age -> sealed/acme.recipients.
func RecordPath(sealedFile string) string {
	return strings.TrimSuffix(sealedFile, ".age") + ".recipients"
}

// Hash is the SHA256 a record stores for sealed file bytes.
func Hash(sealed []byte) string {
	sum := sha256.Sum256(sealed)
	return hex.EncodeToString(sum[:])
}

// Recipients returns the recipient strings of entries.
func Recipients(entries []Entry) []string {
	rs := make([]string, len(entries))
	for i, e := range entries {
		rs[i] = e.Recipient
	}
	return rs
}

// Want lists who the policy says can decrypt k: every recipient of every
// publisher of k, each once (SSH keys compared without their comment),
// sorted by publisher, then recipient.
func Want(p *policy.Policy, k *policy.Key) []Entry {
	byCanon := map[string]*Entry{}
	var entries []*Entry
	for _, pub := range p.PublishersOf(k.Label) {
		for _, r := range pub.Recipients {
			c := policy.CanonicalRecipient(r)
			e := byCanon[c]
			if e == nil {
				e = &Entry{Recipient: r}
				byCanon[c] = e
				entries = append(entries, e)
			}
			if !slices.Contains(e.Publishers, pub.Label) {
				e.Publishers = append(e.Publishers, pub.Label)
			}
		}
	}
	out := make([]Entry, len(entries))
	for i, e := range entries {
		slices.Sort(e.Publishers)
		out[i] = *e
	}
	sortEntries(out)
	return out
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		return cmp.Or(strings.Compare(strings.Join(a.Publishers, ","), strings.Join(b.Publishers, ",")),
			strings.Compare(policy.CanonicalRecipient(a.Recipient), policy.CanonicalRecipient(b.Recipient)))
	})
}

// Diff returns the entries of want that have is lacks (added) and those of
// has that want lacks (removed), comparing recipients canonically.
func Diff(has, want []Entry) (added, removed []Entry) {
	in := func(es []Entry, e Entry) bool {
		return slices.ContainsFunc(es, func(x Entry) bool {
			return policy.CanonicalRecipient(x.Recipient) == policy.CanonicalRecipient(e.Recipient)
		})
	}
	for _, e := range want {
		if !in(has, e) {
			added = append(added, e)
		}
	}
	for _, e := range has {
		if !in(want, e) {
			removed = append(removed, e)
		}
	}
	return added, removed
}

// Publishers returns the distinct publisher labels of entries, sorted.
func Publishers(entries []Entry) []string {
	var labels []string
	for _, e := range entries {
		for _, p := range e.Publishers {
			if !slices.Contains(labels, p) {
				labels = append(labels, p)
			}
		}
	}
	slices.Sort(labels)
	return labels
}

const recordHeader = `# keyform sealed key record, written by "keyform seal"; do not edit.
# Everyone listed here can decrypt %s. Review a change to this
# file like an access grant: removing a recipient means rotating the key.
`

// Marshal returns the record's text form.
func (r *Record) Marshal() []byte {
	var b bytes.Buffer
	base := r.Key + ".age"
	fmt.Fprintf(&b, recordHeader, base)
	fmt.Fprintf(&b, "key %s\n", r.Key)
	fmt.Fprintf(&b, "public-key %s\n", r.PublicKey)
	fmt.Fprintf(&b, "sealed-sha256 %s\n", r.SHA256)
	entries := slices.Clone(r.Entries)
	sortEntries(entries)
	for _, e := range entries {
		fmt.Fprintf(&b, "recipient %s %s\n", strings.Join(e.Publishers, ","), e.Recipient)
	}
	return b.Bytes()
}

var (
	labelRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	hashRe  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ParseRecord parses a record written by Marshal. It is strict: a record
// that does not parse is treated as stale, and reseal rewrites it.
func ParseRecord(data []byte) (*Record, error) {
	r := &Record{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		field, rest, _ := strings.Cut(line, " ")
		if field != "recipient" {
			if seen[field] {
				return nil, fmt.Errorf("line %d: %s given twice", n, field)
			}
			seen[field] = true
		}
		switch field {
		case "key":
			if !labelRe.MatchString(rest) {
				return nil, fmt.Errorf("line %d: invalid key label", n)
			}
			r.Key = rest
		case "public-key":
			pk, err := keys.ParsePublicKey(rest)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n, err)
			}
			r.PublicKey = pk.String()
		case "sealed-sha256":
			if !hashRe.MatchString(rest) {
				return nil, fmt.Errorf("line %d: sealed-sha256 is not 64 lower-case hex digits", n)
			}
			r.SHA256 = rest
		case "recipient":
			pubs, rcpt, ok := strings.Cut(rest, " ")
			if !ok {
				return nil, fmt.Errorf("line %d: want \"recipient PUBLISHERS RECIPIENT\"", n)
			}
			e := Entry{Publishers: strings.Split(pubs, ",")}
			for _, p := range e.Publishers {
				if !labelRe.MatchString(p) {
					return nil, fmt.Errorf("line %d: invalid publisher label", n)
				}
			}
			if _, err := ParseRecipient(rcpt); err != nil {
				return nil, fmt.Errorf("line %d: %v", n, err)
			}
			e.Recipient = rcpt
			r.Entries = append(r.Entries, e)
		default:
			return nil, fmt.Errorf("line %d: unknown field %q", n, truncate(field))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	switch {
	case r.Key == "":
		return nil, errors.New("no key line")
	case r.PublicKey == "":
		return nil, errors.New("no public-key line")
	case r.SHA256 == "":
		return nil, errors.New("no sealed-sha256 line")
	case len(r.Entries) == 0:
		return nil, errors.New("no recipient lines")
	}
	return r, nil
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}
