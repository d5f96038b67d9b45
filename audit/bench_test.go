package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
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

// BenchmarkRun audits a file:// cache of paths narinfos with one and two
// signatures each; ns/path is the cost per narinfo on all cores.
func BenchmarkRun(b *testing.B) {
	old, nw := genKey(b, "acme-1", 1), genKey(b, "acme-2", 2)
	pks := []*policy.Key{policyKey("acme_2025", old, policy.Active), policyKey("acme_2026", nw, policy.Active)}
	for _, sigs := range []int{1, 2} {
		for _, paths := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("sigs=%d/paths=%d", sigs, paths), func(b *testing.B) {
				dir := b.TempDir()
				if _, err := cachegen.Generate(dir, cachegen.Options{Paths: paths, Signers: []*keys.SecretKey{old, nw}[:sigs], Seed: 1}); err != nil {
					b.Fatal(err)
				}
				s, err := binarycache.OpenFile(dir, binarycache.Options{})
				if err != nil {
					b.Fatal(err)
				}
				cpu0 := cpuTime()
				for b.Loop() {
					r, err := Run(context.Background(), s, Options{Keys: pks})
					if err != nil || r.Covered != int64(paths) {
						b.Fatal(r, err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*paths), "ns/path")
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*paths), "cpu-ns/path")
			})
		}
	}
	// Everything but the signature checks: listing, reading, parsing and
	// fingerprinting (the policy knows neither key, so nothing verifies).
	b.Run("sigs=2/paths=10000/no_verify", func(b *testing.B) {
		dir := b.TempDir()
		if _, err := cachegen.Generate(dir, cachegen.Options{Paths: 10000, Signers: []*keys.SecretKey{old, nw}, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		s, err := binarycache.OpenFile(dir, binarycache.Options{})
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := cpuTime()
		for b.Loop() {
			r, err := Run(context.Background(), s, Options{})
			if err != nil || r.Unsigned != 10000 {
				b.Fatal(r, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/path")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*10000), "cpu-ns/path")
	})
}
