// Package cachegen writes synthetic file:// binary caches for tests and
// benchmarks: nix-cache-info and one HASH.narinfo per path, with valid
// nix32 hashes, references between the paths, and real signatures, so
// that `nix store verify --store file://DIR --all --no-contents` accepts
// them. No NAR files are written. Output is deterministic for a seed.
package cachegen

import (
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/keyform/keyform/keys"
)

const nix32Alphabet = "0123456789abcdfghijklmnpqrsvwxyz"

// Options describe a cache.
type Options struct {
	// Paths is the number of narinfos.
	Paths int
	// Signers sign every narinfo, each adding one Sig line, in order.
	Signers []*keys.SecretKey
	// StoreDir is the store directory; default /nix/store.
	StoreDir string
	// Seed makes the cache: the same seed, paths and signers give the
	// same bytes.
	Seed uint64
	// MaxRefs is the most references a path has besides possibly itself
	// (chosen among the paths before it); default 5.
	MaxRefs int
}

// Path is what Generate made for one store path.
type Path struct {
	Hash      string // hash part, the narinfo's file name without .narinfo
	StorePath string
}

// Generate writes the cache into dir (created if needed) and returns its
// paths in generation order.
func Generate(dir string, o Options) ([]Path, error) {
	if o.StoreDir == "" {
		o.StoreDir = "/nix/store"
	}
	if o.MaxRefs == 0 {
		o.MaxRefs = 5
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	info := "StoreDir: " + o.StoreDir + "\nWantMassQuery: 1\nPriority: 30\n"
	if err := os.WriteFile(filepath.Join(dir, "nix-cache-info"), []byte(info), 0o644); err != nil {
		return nil, err
	}
	paths := make([]Path, o.Paths)
	for i := range paths {
		paths[i] = makePath(o, i)
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(paths); i += workers {
				text, err := Narinfo(o, paths, i)
				if err == nil {
					err = os.WriteFile(filepath.Join(dir, paths[i].Hash+".narinfo"), text, 0o644)
				}
				if err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// rng is the generator for path i: independent of the others, so paths
// can be made in any order and in parallel.
func rng(o Options, i int, stream uint64) *mrand.ChaCha8 {
	var seed [32]byte
	copy(seed[:], fmt.Sprintf("%016x%08x%08x", o.Seed, i, stream))
	return mrand.NewChaCha8(seed)
}

func makePath(o Options, i int) Path {
	r := rng(o, i, 0)
	var b [HashLen]byte
	for k := range b {
		b[k] = nix32Alphabet[r.Uint64()%32]
	}
	h := string(b[:])
	return Path{Hash: h, StorePath: o.StoreDir + "/" + h + "-synthetic-" + strconv.Itoa(i)}
}

// HashLen is the length of a store path hash part.
const HashLen = 32

// Narinfo returns the narinfo text of paths[i], signed by o.Signers.
func Narinfo(o Options, paths []Path, i int) ([]byte, error) {
	r := mrand.New(rng(o, i, 1))
	var sum [32]byte
	rng(o, i, 2).Read(sum[:])
	narHash, err := keys.NormalizeNarHash("sha256:" + hex.EncodeToString(sum[:]))
	if err != nil {
		return nil, err
	}
	rng(o, i, 3).Read(sum[:])
	fileHash, err := keys.NormalizeNarHash("sha256:" + hex.EncodeToString(sum[:]))
	if err != nil {
		return nil, err
	}
	narSize := 1000 + r.Uint64N(1<<24)
	var refs []string
	if i > 0 {
		for range r.IntN(o.MaxRefs + 1) {
			refs = append(refs, filepath.Base(paths[r.IntN(i)].StorePath))
		}
	}
	if r.IntN(4) == 0 { // some paths refer to themselves, as real ones do
		refs = append(refs, filepath.Base(paths[i].StorePath))
	}
	// Nix keeps references in a set and writes each once.
	slices.Sort(refs)
	refs = slices.Compact(refs)
	n := &keys.Narinfo{
		StorePath:  paths[i].StorePath,
		URL:        "nar/" + strings.TrimPrefix(fileHash, "sha256:") + ".nar.xz",
		NarHash:    narHash,
		NarSize:    narSize,
		References: refs,
	}
	var b strings.Builder
	fmt.Fprintf(&b, "StorePath: %s\nURL: %s\nCompression: xz\nFileHash: %s\nFileSize: %d\nNarHash: %s\nNarSize: %d\nReferences: %s\n",
		n.StorePath, n.URL, fileHash, narSize/3+1, n.NarHash, n.NarSize, strings.Join(refs, " "))
	fmt.Fprintf(&b, "Deriver: %s-synthetic-%d.drv\n", paths[(i+1)%len(paths)].Hash, i)
	for _, sk := range o.Signers {
		sig, err := sk.SignNarinfo(n)
		if err != nil {
			return nil, fmt.Errorf("sign %s: %w", n.StorePath, err)
		}
		b.WriteString("Sig: " + sig.String() + "\n")
	}
	return []byte(b.String()), nil
}
