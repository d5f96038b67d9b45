package schema

import (
	"fmt"
	"testing"

	"github.com/keyform/keyform/internal/memfs"
	"github.com/keyform/keyform/internal/synthetic"
)

func benchPolicy(b *testing.B, cfg synthetic.Config) memfs.FS {
	b.Helper()
	fsys, err := synthetic.FS(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return fsys
}

// BenchmarkLoad measures load+validate+resolve at growing sizes; time per
// op should grow linearly with keys x targets.
func BenchmarkLoad(b *testing.B) {
	sizes := []synthetic.Config{
		{Catalogs: 10, Keys: 100, Targets: 100, Files: 4, Seed: 1, RotateKey: -1},
		synthetic.Mid,
		synthetic.Large,
	}
	for _, cfg := range sizes {
		fsys := benchPolicy(b, cfg)
		b.Run(fmt.Sprintf("keys=%d/targets=%d", cfg.Keys, cfg.Targets), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res := LoadFS(fsys, ".", Options{Now: testNow})
				if res.HasErrors() {
					b.Fatal(res.Diags)
				}
			}
		})
	}
}
