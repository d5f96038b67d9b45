package resign

import (
	"context"
	"os"
	"testing"

	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/internal/cachegen"
	"github.com/keyform/keyform/keys"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

// BenchmarkFile adds a second signature to every narinfo of a 10,000-path
// cache (a fresh copy each time); ns/path is the cost per narinfo.
func BenchmarkFile(b *testing.B) {
	old, nw := genKey(b, "acme-1", 1), genKey(b, "acme-2", 2)
	src := b.TempDir()
	const paths = 10000
	if _, err := cachegen.Generate(src, cachegen.Options{Paths: paths, Signers: []*keys.SecretKey{old}, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir() + "/cache"
		if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
			b.Fatal(err)
		}
		s, err := binarycache.OpenFile(dir, binarycache.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r, err := File(context.Background(), s, Options{Key: nw})
		if err != nil || r.Signed != paths {
			b.Fatal(r, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*paths), "ns/path")
}
