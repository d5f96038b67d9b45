package schema

import (
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/keyform/keyform/policy"
)

// FuzzLoad feeds arbitrary policy text to the loader: it must never panic,
// and whatever it accepts must satisfy the resolved model's invariants.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.txtar")
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if filepath.Ext(file.Name) == ".hcl" {
				f.Add(file.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		fsys := fstest.MapFS{"keyform.hcl": {Data: src}}
		res := LoadFS(fsys, ".", Options{Now: testNow, AllowPending: true, CheckRecipient: checkRecipient})
		if res.HasErrors() != (res.Policy == nil) {
			t.Fatalf("errors=%v but policy=%v", res.HasErrors(), res.Policy)
		}
		if res.Policy == nil {
			return
		}
		for _, tg := range res.Policy.Targets {
			if !tg.Kind.Valid() {
				t.Fatalf("target %s has invalid kind", tg.ID())
			}
			sorted := slices.Clone(tg.Keys)
			policy.SortKeys(sorted)
			if !slices.Equal(sorted, tg.Keys) {
				t.Fatalf("target %s keys not sorted", tg.ID())
			}
			seen := map[*policy.Key]bool{}
			for _, k := range tg.Keys {
				if k.State != policy.Active || seen[k] {
					t.Fatalf("target %s trusts %s (state %s, duplicate %v)", tg.ID(), k.Label, k.State, seen[k])
				}
				seen[k] = true
			}
		}
		names := map[string]bool{}
		for _, k := range res.Policy.Keys {
			if names[k.Name] {
				t.Fatalf("duplicate key name %s accepted", k.Name)
			}
			names[k.Name] = true
		}
	})
}
