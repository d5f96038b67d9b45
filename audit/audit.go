// Package audit finds out what a binary cache's paths are signed with,
// measured against a catalog's keys in the policy: which paths an active
// key covers, which rely on retired keys only, which no policy key signs,
// which carry a signature that does not verify, and, per key, how many
// paths retiring it would strand. It reads the cache as a stream
// (package binarycache) and keeps counters, never the narinfos, so memory
// does not grow with the cache.
package audit

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// DefaultExamples is how many example paths each list of a report keeps.
const DefaultExamples = 5

// maxUnknownKeys bounds how many distinct unknown key names a report
// counts by name: a hostile cache could invent one per path.
const maxUnknownKeys = 32

// Options say what to audit against and how.
type Options struct {
	// Catalog is the catalog's label, for the report.
	Catalog string
	// Keys are the catalog's keys, active and retired (other states and
	// keys without a public key, i.e. pending, are ignored).
	Keys []*policy.Key
	// Jobs is how many narinfos are read and checked at once; 0 means
	// binarycache.DefaultJobs.
	Jobs int
	// Paths lists the store paths to look up, for stores that cannot be
	// listed (HTTP); nil lists the store.
	Paths io.Reader
	// Examples is how many example paths each list keeps (the smallest
	// store paths, so the report is deterministic); 0 means
	// DefaultExamples, negative means none.
	Examples int
	// Progress, when set, is called with the number of narinfos checked
	// so far, about every 1,000 narinfos, from several goroutines.
	Progress func(checked int64)
}

// Report is the audit of one catalog's cache. Its JSON form is the stable
// schema documented in docs/audit.md.
type Report struct {
	Catalog string `json:"catalog"`
	Store   string `json:"store"`
	// Paths counts narinfos read, malformed ones included.
	Paths int64 `json:"paths"`
	// NotFound counts paths of the paths list the cache does not hold.
	NotFound int64 `json:"not_found"`
	// Covered counts paths with a valid signature by an active key.
	Covered int64 `json:"covered"`
	// RetiredOnly counts paths whose only valid policy signatures are by
	// retired keys.
	RetiredOnly int64 `json:"retired_only"`
	// ContentAddressed counts content-addressed paths with no valid
	// active-key signature: their store path is the one their CA field and
	// references give (recomputed), so Nix accepts them without a
	// signature. A CA field that does not give the path counts for nothing.
	ContentAddressed int64 `json:"content_addressed"`
	// Unsigned counts paths with no valid signature by any policy key:
	// no signature at all, or only by keys the policy does not know.
	Unsigned int64 `json:"unsigned"`
	// Invalid counts paths carrying at least one signature, named after a
	// policy key, that does not verify (forged, corrupted, or a key
	// replaced under the same name). Such a path is also counted in one
	// of the classes above by its other signatures.
	Invalid int64 `json:"invalid"`
	// Malformed counts narinfos that could not be checked: unparsable,
	// for another store path or store directory, or refused (not a
	// regular file, too large).
	Malformed int64 `json:"malformed"`
	// Keys holds the counts of each policy key, by Nix key name.
	Keys map[string]*KeyReport `json:"keys"`
	// UnknownKeys counts paths signed by key names the policy does not
	// know, for the first few such names; UnknownOther counts the
	// signatures of the rest.
	UnknownKeys  map[string]int64 `json:"unknown_keys"`
	UnknownOther int64            `json:"unknown_other"`
	// Examples lists the first few paths (in store path order) of each
	// problem.
	Examples Examples `json:"examples"`
}

// KeyReport holds one key's counts.
type KeyReport struct {
	Label string `json:"label"`
	State string `json:"state"`
	// Valid counts paths with a valid signature by this key.
	Valid int64 `json:"valid"`
	// Invalid counts paths with a signature under this key's name that
	// does not verify.
	Invalid int64 `json:"invalid"`
	// WouldStrand counts paths whose only valid active-key signature is
	// this key's: retiring it leaves them untrusted. Always 0 for a
	// retired key. (Genuinely) content-addressed paths are not counted.
	WouldStrand int64 `json:"would_strand"`
	// Stranded lists the first few such paths.
	Stranded []string `json:"stranded"`
}

// Examples lists the first few paths of each problem.
type Examples struct {
	Unsigned    []string  `json:"unsigned"`
	RetiredOnly []string  `json:"retired_only"`
	Invalid     []Finding `json:"invalid"`
	Malformed   []Finding `json:"malformed"`
}

// Finding is one path (or narinfo location) and what is wrong with it.
type Finding struct {
	Path    string `json:"path"`
	Problem string `json:"problem"`
}

// OK reports whether every path is covered by an active key (or is
// content-addressed) and no signature is invalid and no narinfo
// malformed.
func (r *Report) OK() bool {
	return r.RetiredOnly == 0 && r.Unsigned == 0 && r.Invalid == 0 && r.Malformed == 0
}

// auditKey is a policy key ready for checking.
type auditKey struct {
	idx    int
	name   string
	active bool
	pub    *keys.PublicKey
}

// Run audits the cache s against o.Keys.
func Run(ctx context.Context, s binarycache.Store, o Options) (*Report, error) {
	examples := o.Examples
	if examples == 0 {
		examples = DefaultExamples
	}
	if examples < 0 {
		examples = 0
	}
	r := &Report{
		Catalog:     o.Catalog,
		Store:       s.URL(),
		Keys:        map[string]*KeyReport{},
		UnknownKeys: map[string]int64{},
	}
	aks, byName, err := auditKeys(r, o.Keys, o.Catalog)
	if err != nil {
		return nil, err
	}
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = binarycache.DefaultJobs(s)
	}
	workers := make([]*worker, jobs)
	for i := range workers {
		workers[i] = newWorker(aks, byName, s.Info().StoreDir, examples)
	}
	var checked progressCounter
	st, err := binarycache.Walk(ctx, s, binarycache.WalkOptions{Jobs: jobs, Paths: o.Paths},
		func(w int, e *binarycache.Entry) error {
			workers[w].check(e)
			if o.Progress != nil {
				if n, report := checked.add(); report {
					o.Progress(n)
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	r.NotFound = st.NotFound
	for _, w := range workers {
		w.mergeInto(r, aks, examples)
	}
	return r, nil
}

// auditKeys prepares the catalog's active and retired keys for checking
// and adds an empty KeyReport for each to r.
func auditKeys(r *Report, pks []*policy.Key, catalog string) ([]*auditKey, map[string][]*auditKey, error) {
	var aks []*auditKey
	byName := map[string][]*auditKey{}
	for _, k := range pks {
		if k.Pending() || (k.State != policy.Active && k.State != policy.Retired) {
			continue
		}
		pub, err := keys.ParsePublicKey(k.PublicKey)
		if err != nil {
			return nil, nil, fmt.Errorf("key %s: %w", k.Label, err)
		}
		if _, dup := r.Keys[pub.Name]; dup {
			return nil, nil, fmt.Errorf("keys %s and %s of catalog %s share the Nix key name %s: Nix trusts only the first, so a rotation needs a new name", r.Keys[pub.Name].Label, k.Label, catalog, pub.Name)
		}
		ak := &auditKey{idx: len(aks), name: pub.Name, active: k.State == policy.Active, pub: pub}
		aks = append(aks, ak)
		byName[pub.Name] = append(byName[pub.Name], ak)
		r.Keys[pub.Name] = &KeyReport{Label: k.Label, State: string(k.State), Stranded: []string{}}
	}
	return aks, byName, nil
}

// worker holds the counts of one goroutine, merged when all are done.
type worker struct {
	aks      []*auditKey
	byName   map[string][]*auditKey
	storeDir string
	limit    int

	paths, covered, retiredOnly, ca, unsigned, invalid, malformed int64
	valid, invalidBy, strand                                      []int64
	stranded                                                      [][]string
	unknown                                                       map[string]*int64
	unknownOther                                                  int64
	exUnsigned, exRetired                                         []string
	exInvalid, exMalformed                                        []Finding

	// Per-narinfo scratch.
	validHere, invalidHere []bool
	view                   keys.NarinfoView
	sigBytes               [64]byte
	sig                    keys.Signature
}

func newWorker(aks []*auditKey, byName map[string][]*auditKey, storeDir string, limit int) *worker {
	return &worker{
		aks: aks, byName: byName, storeDir: storeDir, limit: limit,
		valid: make([]int64, len(aks)), invalidBy: make([]int64, len(aks)), strand: make([]int64, len(aks)),
		stranded: make([][]string, len(aks)), unknown: map[string]*int64{},
		validHere: make([]bool, len(aks)), invalidHere: make([]bool, len(aks)),
	}
}

func (w *worker) bad(where, problem string) {
	w.malformed++
	w.exMalformed = keepSmallest(w.exMalformed, Finding{Path: where, Problem: problem}, w.limit, compareFindings)
}

func (w *worker) check(e *binarycache.Entry) {
	w.paths++
	if e.Err != nil {
		w.bad(e.Where, e.Err.Error())
		return
	}
	// Parsed in place into the worker's view: no allocation per narinfo
	// unless it is unusual or kept as an example.
	v := &w.view
	if err := v.Parse(e.Data); err != nil {
		w.bad(e.Where, err.Error())
		return
	}
	storePath := v.StorePath
	slash := bytes.LastIndexByte(storePath, '/')
	dir, base := storePath[:slash], storePath[slash+1:]
	if len(base) <= len(e.Hash) || string(base[:len(e.Hash)]) != e.Hash || base[len(e.Hash)] != '-' {
		w.bad(e.Where, fmt.Sprintf("holds StorePath %s, not a path with hash %s: the cache is corrupt or serves the wrong narinfo", storePath, e.Hash))
		return
	}
	if string(dir) != w.storeDir {
		w.bad(e.Where, fmt.Sprintf("StorePath %s is not in the cache's store directory %s", storePath, w.storeDir))
		return
	}
	fp := v.Fingerprint()
	clear(w.validHere)
	clear(w.invalidHere)
	for _, text := range v.Sigs {
		name, _, _ := bytes.Cut(text, []byte(":"))
		cands := w.byName[string(name)]
		if len(cands) == 0 {
			w.countUnknown(name)
			continue
		}
		ok := false
		if keys.DecodeSignature(&w.sigBytes, text) {
			for _, ak := range cands {
				w.sig = keys.Signature{KeyName: ak.name, Sig: w.sigBytes[:]}
				if ak.pub.Verify(fp, &w.sig) {
					w.validHere[ak.idx] = true
					ok = true
				}
			}
		}
		if !ok {
			for _, ak := range cands {
				w.invalidHere[ak.idx] = true
			}
		}
	}
	ca := false
	if len(v.CA) > 0 {
		// Rare (content-addressed paths are usually not signed by a
		// cache), so the whole Narinfo is built for the check.
		if n, err := keys.ParseNarinfo(e.Data); err == nil {
			ca, _ = n.ContentAddressed()
		}
	}
	activeValid, retiredValid, only, anyInvalid := 0, false, -1, false
	for i, ak := range w.aks {
		if w.validHere[i] {
			w.valid[i]++
			if ak.active {
				activeValid++
				only = i
			} else {
				retiredValid = true
			}
		}
		if w.invalidHere[i] {
			w.invalidBy[i]++
			anyInvalid = true
		}
	}
	switch {
	case activeValid > 0:
		w.covered++
		if activeValid == 1 && !ca {
			w.strand[only]++
			w.stranded[only] = keepSmallestPath(w.stranded[only], storePath, w.limit)
		}
	case ca:
		w.ca++
	case retiredValid:
		w.retiredOnly++
		w.exRetired = keepSmallestPath(w.exRetired, storePath, w.limit)
	default:
		w.unsigned++
		w.exUnsigned = keepSmallestPath(w.exUnsigned, storePath, w.limit)
	}
	if anyInvalid {
		w.invalid++
		var names []string
		for i, ak := range w.aks {
			if w.invalidHere[i] {
				names = append(names, ak.name)
			}
		}
		w.exInvalid = keepSmallest(w.exInvalid, Finding{Path: string(storePath),
			Problem: "signature by " + strings.Join(names, ", ") + " does not verify"}, w.limit, compareFindings)
	}
}

func (w *worker) countUnknown(name []byte) {
	if n, ok := w.unknown[string(name)]; ok {
		*n++
		return
	}
	if keys.ValidateName(string(name)) != nil || len(w.unknown) == maxUnknownKeys {
		w.unknownOther++
		return
	}
	w.unknown[string(name)] = new(int64(1))
}

func (w *worker) mergeInto(r *Report, aks []*auditKey, limit int) {
	r.Paths += w.paths
	r.Covered += w.covered
	r.RetiredOnly += w.retiredOnly
	r.ContentAddressed += w.ca
	r.Unsigned += w.unsigned
	r.Invalid += w.invalid
	r.Malformed += w.malformed
	for i, ak := range aks {
		kr := r.Keys[ak.name]
		kr.Valid += w.valid[i]
		kr.Invalid += w.invalidBy[i]
		kr.WouldStrand += w.strand[i]
		for _, p := range w.stranded[i] {
			kr.Stranded = keepSmallest(kr.Stranded, p, limit, strings.Compare)
		}
	}
	// Unknown names: keep the count of a name merged in while there is
	// room, so the kept names do not depend on which worker saw what.
	for _, name := range slices.Sorted(maps.Keys(w.unknown)) {
		if _, ok := r.UnknownKeys[name]; ok || len(r.UnknownKeys) < maxUnknownKeys {
			r.UnknownKeys[name] += *w.unknown[name]
		} else {
			r.UnknownOther += *w.unknown[name]
		}
	}
	r.UnknownOther += w.unknownOther
	for _, p := range w.exUnsigned {
		r.Examples.Unsigned = keepSmallest(r.Examples.Unsigned, p, limit, strings.Compare)
	}
	for _, p := range w.exRetired {
		r.Examples.RetiredOnly = keepSmallest(r.Examples.RetiredOnly, p, limit, strings.Compare)
	}
	for _, f := range w.exInvalid {
		r.Examples.Invalid = keepSmallest(r.Examples.Invalid, f, limit, compareFindings)
	}
	for _, f := range w.exMalformed {
		r.Examples.Malformed = keepSmallest(r.Examples.Malformed, f, limit, compareFindings)
	}
	for _, l := range []*[]string{&r.Examples.Unsigned, &r.Examples.RetiredOnly} {
		if *l == nil {
			*l = []string{}
		}
	}
	for _, l := range []*[]Finding{&r.Examples.Invalid, &r.Examples.Malformed} {
		if *l == nil {
			*l = []Finding{}
		}
	}
}

func compareFindings(a, b Finding) int {
	return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Problem, b.Problem))
}

// keepSmallestPath is keepSmallest for a store path in a reused buffer:
// the string is made only when the path is kept.
func keepSmallestPath(l []string, p []byte, limit int) []string {
	if limit <= 0 || len(l) == limit && string(p) >= l[len(l)-1] {
		return l
	}
	return keepSmallest(l, string(p), limit, strings.Compare)
}

// keepSmallest inserts v into the sorted list l, keeping at most limit
// of the smallest values; most calls compare with the largest and return.
func keepSmallest[T any](l []T, v T, limit int, compare func(a, b T) int) []T {
	if limit <= 0 {
		return l
	}
	if len(l) == limit && compare(v, l[len(l)-1]) >= 0 {
		return l
	}
	i, found := slices.BinarySearchFunc(l, v, compare)
	if found {
		return l
	}
	l = slices.Insert(l, i, v)
	if len(l) > limit {
		l = l[:limit]
	}
	return l
}
