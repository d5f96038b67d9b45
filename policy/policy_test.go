package policy

import (
	"testing"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

func TestSortKeys(t *testing.T) {
	ks := []*Key{
		{Label: "b2", Name: "b-2", Catalog: "b"},
		{Label: "a9", Name: "a-9", Catalog: "a"},
		{Label: "loose", Name: "z-1"},
		{Label: "b1", Name: "b-1", Catalog: "b"},
		{Label: "a10", Name: "a-10", Catalog: "a"},
	}
	SortKeys(ks)
	var got []string
	for _, k := range ks {
		got = append(got, k.Label)
	}
	want := []string{"loose", "a10", "a9", "b1", "b2"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v (by catalog, keys without one first, then name)", got, want)
		}
	}
}

func TestLookups(t *testing.T) {
	p := &Policy{
		Catalogs: []*Catalog{{Label: "a"}, {Label: "b"}},
		Keys:     []*Key{{Label: "k1"}, {Label: "k2"}},
		Targets:  []*Target{{Kind: NixOS, Label: "t"}},
	}
	if p.Key("k2") != p.Keys[1] || p.Key("k3") != nil {
		t.Error("Key lookup")
	}
	if p.Catalog("a") != p.Catalogs[0] || p.Catalog("c") != nil {
		t.Error("Catalog lookup")
	}
	if p.Target("nixos.t") != p.Targets[0] || p.Target("darwin.t") != nil {
		t.Error("Target lookup")
	}
}
