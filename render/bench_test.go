package render_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/synthetic"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render"
	"github.com/keyform/keyform/schema"
)

func loadGenerated(b *testing.B, cfg synthetic.Config) *policy.Policy {
	b.Helper()
	fsys, err := synthetic.FS(cfg)
	if err != nil {
		b.Fatal(err)
	}
	res := schema.LoadFS(fsys, ".", schema.Options{Now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})
	if res.HasErrors() {
		b.Fatal(res.Diags)
	}
	return res.Policy
}

// BenchmarkFilesScaling renders every target of generated policies at three
// sizes; ns/op should grow linearly with the bytes rendered.
func BenchmarkFilesScaling(b *testing.B) {
	for _, cfg := range []synthetic.Config{synthetic.Medium, synthetic.Mid, synthetic.Large} {
		p := loadGenerated(b, cfg)
		b.Run(fmt.Sprintf("keys=%d/targets=%d", cfg.Keys, cfg.Targets), func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				files, err := render.Files(p, render.Options{Source: "."}, nil)
				if err != nil {
					b.Fatal(err)
				}
				n = 0
				for _, f := range files {
					n += len(f.Content)
				}
			}
			b.ReportMetric(float64(n), "bytes/op")
		})
	}
}
