package plan_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/synthetic"
	"github.com/keyform/keyform/plan"
	"github.com/keyform/keyform/policy"
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

// BenchmarkCompare compares two generated policies that differ by a
// rotation (a successor for key 0, so every target trusting its catalog
// gains a key) and renders the plan as text, markdown and JSON. Time
// should grow linearly with the keys the targets trust.
func BenchmarkCompare(b *testing.B) {
	for _, cfg := range []synthetic.Config{synthetic.Medium, synthetic.Mid, synthetic.Large} {
		base := loadGenerated(b, cfg)
		cfg.RotateKey = 0
		head := loadGenerated(b, cfg)
		b.Run(fmt.Sprintf("keys=%d/targets=%d", cfg.Keys, cfg.Targets), func(b *testing.B) {
			b.ReportAllocs()
			var p *plan.Plan
			for b.Loop() {
				p = plan.Compare(base, head)
				p.Text()
				p.Markdown()
				p.JSON()
			}
			if len(p.Keys) != 1 || len(p.Targets) == 0 {
				b.Fatalf("plan has %d key changes and %d target changes; want the rotation", len(p.Keys), len(p.Targets))
			}
		})
	}
}
