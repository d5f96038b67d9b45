package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/internal/cachegen"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// cpuTime is the process's user+system CPU time in nanoseconds: on a
// shared machine it shows the cost of an audit better than wall time.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkVerify is the floor: one ed25519 signature check on one core.
func BenchmarkVerify(b *testing.B) {
	sk := genKey(b, "acme-1", 1)
	msg := []byte("1;/nix/store/0c6kzph7l0dcbfmjap64f0czdafn3b7x-hello;sha256:1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h;12345;")
	sig := sk.Sign(msg)
	pub := sk.Public()
	cpu0 := cpuTime()
	for b.Loop() {
		if !ed25519.Verify(pub.Key, msg, sig.Sig) {
			b.Fatal("bad signature")
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// benchCaches generates each benchmark cache once per benchmark run (in
// the parent's temporary directory): with -count 10, generating 10,000
// signed narinfos for every count would take longer than measuring.
type benchCaches struct {
	b        *testing.B
	root     string
	old, nw  *keys.SecretKey
	dirs     map[string]string
	policyKs []*policy.Key
}

func newBenchCaches(b *testing.B) *benchCaches {
	old, nw := genKey(b, "acme-1", 1), genKey(b, "acme-2", 2)
	return &benchCaches{b: b, root: b.TempDir(), old: old, nw: nw, dirs: map[string]string{},
		policyKs: []*policy.Key{policyKey("acme_2025", old, policy.Active), policyKey("acme_2026", nw, policy.Active)}}
}

// dir returns a cache of paths narinfos each signed by the first sigs keys.
func (c *benchCaches) dir(b *testing.B, sigs, paths int) string {
	name := fmt.Sprintf("sigs%d-paths%d", sigs, paths)
	if d, ok := c.dirs[name]; ok {
		return d
	}
	d := filepath.Join(c.root, name)
	if _, err := cachegen.Generate(d, cachegen.Options{Paths: paths, Signers: []*keys.SecretKey{c.old, c.nw}[:sigs], Seed: 1}); err != nil {
		b.Fatal(err)
	}
	c.dirs[name] = d
	return d
}

// BenchmarkRun audits a file:// cache of paths narinfos with one and two
// signatures each; ns/path is the cost per narinfo on all cores,
// cpu-ns/path the CPU time per narinfo (less sensitive to other load).
// Run with TMPDIR=/dev/shm to leave the file system out.
func BenchmarkRun(b *testing.B) {
	caches := newBenchCaches(b)
	run := func(b *testing.B, dir string, paths int, o Options, check func(*Report) bool) {
		s, err := binarycache.OpenFile(dir, binarycache.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		cpu0 := cpuTime()
		for b.Loop() {
			r, err := Run(context.Background(), s, o)
			if err != nil || !check(r) {
				b.Fatal(r, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*paths), "ns/path")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*paths), "cpu-ns/path")
	}
	for _, sigs := range []int{1, 2} {
		for _, paths := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("sigs=%d/paths=%d", sigs, paths), func(b *testing.B) {
				run(b, caches.dir(b, sigs, paths), paths, Options{Keys: caches.policyKs},
					func(r *Report) bool { return r.Covered == int64(paths) })
			})
		}
	}
	// Everything but the signature checks: listing, reading, parsing and
	// fingerprinting (the policy knows neither key, so nothing verifies).
	b.Run("sigs=2/paths=10000/no_verify", func(b *testing.B) {
		run(b, caches.dir(b, 2, 10000), 10000, Options{},
			func(r *Report) bool { return r.Unsigned == 10000 })
	})
}

// BenchmarkCheck is one worker's work on narinfos already in memory:
// parsing, fingerprinting, classifying and (verify=N) N signature
// checks, without reading files or scheduling. verify=0 has a policy
// that knows neither signing key.
func BenchmarkCheck(b *testing.B) {
	caches := newBenchCaches(b)
	dir := caches.dir(b, 2, 1000)
	names, err := filepath.Glob(filepath.Join(dir, "*.narinfo"))
	if err != nil || len(names) != 1000 {
		b.Fatal(len(names), err)
	}
	entries := make([]*binarycache.Entry, len(names))
	for i, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		base := filepath.Base(name)
		entries[i] = &binarycache.Entry{Hash: base[:binarycache.HashLen], Where: name, Data: data}
	}
	for verify, ks := range [][]*policy.Key{nil, caches.policyKs[:1], caches.policyKs} {
		b.Run(fmt.Sprintf("verify=%d", verify), func(b *testing.B) {
			aks, byName, err := auditKeys(&Report{Keys: map[string]*KeyReport{}}, ks, "acme")
			if err != nil {
				b.Fatal(err)
			}
			w := newWorker(aks, byName, "/nix/store", DefaultExamples)
			i := 0
			cpu0 := cpuTime()
			for b.Loop() {
				w.check(entries[i])
				if i++; i == len(entries) {
					i = 0
				}
			}
			if w.malformed != 0 || w.covered+w.unsigned != int64(b.N) {
				b.Fatalf("malformed %d, covered %d, unsigned %d of %d", w.malformed, w.covered, w.unsigned, b.N)
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
