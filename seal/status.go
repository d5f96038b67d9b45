package seal

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keyform/keyform/internal/safefile"
	"github.com/keyform/keyform/policy"
)

// State says whether a key's sealed file matches the policy.
type State string

const (
	// Current: sealed to exactly the recipients the policy lists.
	Current State = "current"
	// Missing: the policy lists recipients, but nothing is sealed yet.
	Missing State = "missing"
	// Stale: sealed, but not to what the policy says (see Reasons).
	Stale State = "stale"
	// Orphaned: sealed, but no publisher recipient wants the key any more.
	Orphaned State = "orphaned"
	// Unsealed: nothing sealed and nothing wanted.
	Unsealed State = "unsealed"
)

const reasonRecipients = "recipients differ from the policy"

// Status compares a key's sealed files with the policy.
type Status struct {
	Key   *policy.Key
	State State
	// Want is who the policy says can decrypt the key.
	Want []Entry
	// Record is the current record, nil when absent or unreadable.
	Record *Record
	// Added and Removed compare Record with Want.
	Added, Removed []Entry
	// Reasons explain a Stale state, one short phrase each.
	Reasons []string
	// Modified reports that the sealed file is not the one its record was
	// written for (their SHA-256 differ): it was replaced or edited
	// outside "keyform seal", perhaps by someone who sealed another key to
	// other recipients. plan calls it a danger.
	Modified bool
}

// LostAccess lists the publishers that could decrypt the sealed key but
// that the policy no longer gives any recipient of it, sorted.
func (s *Status) LostAccess() []string {
	keep := Publishers(s.Want)
	var lost []string
	for _, p := range Publishers(s.Removed) {
		if !slices.Contains(keep, p) {
			lost = append(lost, p)
		}
	}
	return lost
}

// Rekeyed lists the publishers that keep access but lose a recipient (for
// example a new laptop's key replaced the old one's), sorted.
func (s *Status) Rekeyed() []string {
	keep := Publishers(s.Want)
	var changed []string
	for _, p := range Publishers(s.Removed) {
		if slices.Contains(keep, p) {
			changed = append(changed, p)
		}
	}
	return changed
}

// NeedsRotation reports whether a publisher who could decrypt the sealed
// key is losing access. They may have kept the key, so only a rotation
// takes it from them; "plan" and "reseal" say so.
func (s *Status) NeedsRotation() bool { return len(s.LostAccess()) > 0 }

// Check reads k's sealed file and record from fsys (rooted at the policy
// directory) and compares them with the policy p. It decrypts nothing.
// plan calls it on the policy at a git revision; reseal on the work tree.
func Check(fsys fs.FS, p *policy.Policy, k *policy.Key) (*Status, error) {
	st := &Status{Key: k, Want: Want(p, k)}
	sealedName := path.Clean(filepath.ToSlash(k.SealedFile))
	recordName := RecordPath(sealedName)
	sealed, errSealed := safefile.ReadFileFS(fsys, sealedName, MaxSealedFileSize)
	record, errRecord := safefile.ReadFileFS(fsys, recordName, MaxSealedFileSize)
	for _, err := range []error{errSealed, errRecord} {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	haveSealed, haveRecord := errSealed == nil, errRecord == nil
	switch {
	case !haveSealed && !haveRecord && len(st.Want) == 0:
		st.State = Unsealed
		return st, nil
	case !haveSealed && !haveRecord:
		st.State = Missing
		st.Added = st.Want
		return st, nil
	case len(st.Want) == 0:
		st.State = Orphaned
	}
	if haveRecord {
		r, err := ParseRecord(record)
		if err != nil {
			st.Reasons = append(st.Reasons, fmt.Sprintf("%s does not parse (%v)", filepath.FromSlash(recordName), err))
		} else {
			st.Record = r
		}
	} else {
		st.Reasons = append(st.Reasons, fmt.Sprintf("%s is missing", filepath.FromSlash(recordName)))
	}
	if !haveSealed {
		st.Reasons = append(st.Reasons, fmt.Sprintf("%s is missing", filepath.FromSlash(sealedName)))
	}
	if r := st.Record; r != nil {
		st.Added, st.Removed = Diff(r.Entries, st.Want)
		if len(st.Added)+len(st.Removed) > 0 {
			st.Reasons = append(st.Reasons, reasonRecipients)
		}
		if haveSealed && r.SHA256 != Hash(sealed) {
			st.Modified = true
			st.Reasons = append(st.Reasons, fmt.Sprintf("%s changed since its record was written", filepath.FromSlash(sealedName)))
		}
		if r.Key != k.Label {
			st.Reasons = append(st.Reasons, fmt.Sprintf("the record is for key %q", r.Key))
		}
		if k.PublicKey != "" && r.PublicKey != k.PublicKey {
			st.Reasons = append(st.Reasons, fmt.Sprintf("%s was sealed for public key %s, not the policy's %s", filepath.FromSlash(sealedName), r.PublicKey, k.PublicKey))
		}
	} else {
		// Without a readable record, assume every wanted recipient is new.
		st.Added = st.Want
	}
	if st.State == "" {
		st.State = Current
		if len(st.Reasons) > 0 {
			st.State = Stale
		}
	}
	return st, nil
}

// Change says in one line what differs from the policy: publishers added
// or removed, publishers whose recipients changed, and any other reason the
// sealed file is stale, e.g. "added carol; removed bob".
func (s *Status) Change() string {
	var had []string
	if s.Record != nil {
		had = Publishers(s.Record.Entries)
	}
	keep := Publishers(s.Want)
	var added, changed []string
	for _, p := range Publishers(s.Added) {
		if slices.Contains(had, p) {
			changed = append(changed, p)
		} else if s.Record != nil {
			added = append(added, p)
		}
	}
	for _, p := range Publishers(s.Removed) {
		if slices.Contains(keep, p) && !slices.Contains(changed, p) {
			changed = append(changed, p)
		}
	}
	slices.Sort(changed)
	var parts []string
	if len(added) > 0 {
		parts = append(parts, "added "+strings.Join(added, ", "))
	}
	if lost := s.LostAccess(); len(lost) > 0 {
		parts = append(parts, "removed "+strings.Join(lost, ", "))
	}
	if len(changed) > 0 {
		parts = append(parts, "new recipients for "+strings.Join(changed, ", "))
	}
	for _, r := range s.Reasons {
		if r != reasonRecipients {
			parts = append(parts, r)
		}
	}
	if len(parts) == 0 && s.State == Missing {
		parts = append(parts, "never sealed")
	}
	return strings.Join(parts, "; ")
}
