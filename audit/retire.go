package audit

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/keyform/keyform/policy"
)

// What `keyform retire` decides from audit summaries: whether retiring a
// key strands paths, with which key to fix it, and until when clients may
// still hold narinfos cached before the caches were re-signed.

// Successor returns the key that should sign what k alone signs before k
// is retired: the first other active key of k's catalog that has a public
// key, in the policy's (label) order; nil when there is none.
func Successor(p *policy.Policy, k *policy.Key) *policy.Key {
	for _, o := range KeysOf(p, k.Catalog) {
		if o != k && o.State == policy.Active && !o.Pending() {
			return o
		}
	}
	return nil
}

// StrandError refuses a retire that would strand paths: they carry a
// valid signature by no other active key, so clients stop trusting them.
type StrandError struct {
	Key            *policy.Key
	Store          string
	Strands, Paths int64
	// Successor signs the paths instead; nil when the catalog has none.
	Successor *policy.Key
	// Recorded says the evidence is the recorded summary, which the fix
	// must refresh.
	Recorded bool
}

func (e *StrandError) Error() string {
	return fmt.Sprintf("retiring %s would strand %d of %d paths in %s: no other active key signs them", e.Key.Label, e.Strands, e.Paths, e.Store)
}

// Hint is the fix: sign the paths with the successor (and record the
// audit again when the evidence was recorded), then retire again.
func (e *StrandError) Hint() string {
	if e.Successor == nil {
		return fmt.Sprintf("add a successor (keyform rotate %s), sign the cache with it, then keyform retire %s again (or --force to retire anyway)", e.Key.Label, e.Key.Label)
	}
	record := ""
	if e.Recorded {
		record = fmt.Sprintf(" and keyform audit %s --record", e.Key.Catalog)
	}
	return fmt.Sprintf("keyform resign %s --store %s%s, then keyform retire %s again (or --force to retire anyway)", e.Successor.Label, e.Store, record, e.Key.Label)
}

// ErrNotAudited is wrapped when a summary cannot tell what retiring a key
// strands.
var ErrNotAudited = errors.New("the audit cannot tell what the key alone signs")

// Stale returns the labels of the keys, other than the one named
// retiring, that s counted as active and that are not active among keys
// (the catalog's keys now): their signatures no longer count, so s
// understates what retiring the key strands. (A key added since is
// harmless: s counts its signatures as unknown, which overstates.)
func (s *Summary) Stale(keys []*policy.Key, retiring string) []string {
	active := map[string]bool{}
	for _, k := range keys {
		if k.State == policy.Active {
			active[k.Name] = true
		}
	}
	var stale []string
	for _, name := range slices.Sorted(maps.Keys(s.Keys)) {
		if ks := s.Keys[name]; ks.State == string(policy.Active) && !active[name] && name != retiring {
			stale = append(stale, ks.Label)
		}
	}
	return stale
}

// StaleNote says why a stale summary cannot tell what retiring the key
// named keyName strands.
func (s *Summary) StaleNote(keyName string, stale []string) string {
	label := keyName
	if k := s.Keys[keyName]; k != nil {
		label = k.Label
	}
	return fmt.Sprintf("retiring %s: the audit of catalog %s (%s) counted %s as active, which the policy no longer does, so it cannot tell what %s alone signs: record it again (keyform audit %s --record)",
		label, s.Catalog, s.Date, strings.Join(stale, ", "), label, s.Catalog)
}

// CheckRetire checks the summaries of k's catalog (one per store) before
// k is retired; catalogKeys are the catalog's keys now (KeysOf). It
// returns a *StrandError for the first store where retiring k strands
// paths, an error wrapping ErrNotAudited when a summary does not list k as
// active or is Stale, and nil when no store relies on k alone.
func CheckRetire(sums []*Summary, k *policy.Key, catalogKeys []*policy.Key, successor *policy.Key, recorded bool) error {
	for _, s := range sums {
		n, audited := s.Strands(k.Name)
		if !audited {
			return fmt.Errorf("%s: %w", s.RetireNote(k.Name), ErrNotAudited)
		}
		if stale := s.Stale(catalogKeys, k.Name); len(stale) > 0 {
			return fmt.Errorf("%s: %w", s.StaleNote(k.Name, stale), ErrNotAudited)
		}
		if n > 0 {
			return &StrandError{Key: k, Store: s.Store, Strands: n, Paths: s.Paths, Successor: successor, Recorded: recorded}
		}
	}
	return nil
}

// SafeFromAll is the first day on which retiring is safe for every store
// of sums (the latest SafeFrom), or the zero time when sums is empty.
func SafeFromAll(sums []*Summary, ttl time.Duration) (time.Time, error) {
	var latest time.Time
	for _, s := range sums {
		t, err := s.SafeFrom(ttl)
		if err != nil {
			return time.Time{}, err
		}
		if t.After(latest) {
			latest = t
		}
	}
	return latest, nil
}

// CacheTTLWarning is what retire says when the evidence is younger than
// Nix's default narinfo-cache-positive-ttl at now: clients may still use
// narinfos they looked up before the caches were re-signed. "" when every
// summary is old enough.
func CacheTTLWarning(sums []*Summary, now time.Time) string {
	safe, err := SafeFromAll(sums, NarinfoCacheTTL)
	if err != nil || !now.Before(safe) {
		return ""
	}
	return fmt.Sprintf("clients cache narinfos for up to %d days (narinfo-cache-positive-ttl): a client that looked up a path before it was resigned may not trust it until %s; wait, or lower narinfo-cache-positive-ttl on clients first",
		int(NarinfoCacheTTL/(24*time.Hour)), safe.Format(DateLayout))
}

// CacheNote is the narinfo cache caveat plan adds to a retire note:
// clients may keep narinfos cached before the audit until its SafeFrom.
func (s *Summary) CacheNote() string {
	safe, err := s.SafeFrom(NarinfoCacheTTL)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("clients may keep narinfos they cached before the audit until %s (narinfo-cache-positive-ttl, %d days by default): retire on or after that day, or lower narinfo-cache-positive-ttl on clients first",
		safe.Format(DateLayout), int(NarinfoCacheTTL/(24*time.Hour)))
}
