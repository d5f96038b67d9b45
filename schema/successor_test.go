package schema

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
)

func TestSuccessor(t *testing.T) {
	old := &policy.Key{Label: "acme_1", Name: "cache.acme.example-1", Catalog: "acme",
		PublicKeyFile: "keys/acme-1.pub", PrivateKeyPath: "/var/lib/keyform/acme-1.key"}
	inline := &policy.Key{Label: "partner", Name: "partner.example", Catalog: "p"}
	p := &policy.Policy{Keys: []*policy.Key{
		old,
		// The first default name and label are taken: move on.
		{Label: "acme_2", Name: "cache.acme.example-2"},
		inline,
	}}

	got, err := Successor(p, old, KeyBlock{})
	want := KeyBlock{Label: "acme_3", Name: "cache.acme.example-3", Catalog: "acme",
		PublicKeyFile: "keys/cache.acme.example-3.pub", PrivateKeyPath: "/var/lib/keyform/cache.acme.example-3.key"}
	if err != nil || got != want {
		t.Errorf("defaults: %+v, %v\nwant %+v", got, err, want)
	}

	given := KeyBlock{Label: "acme_next", Name: "cache.acme.example-2026", PublicKeyFile: "./pub/../pub/n.pub", PrivateKeyPath: "/srv//keys/n.key"}
	got, err = Successor(p, old, given)
	want = KeyBlock{Label: "acme_next", Name: "cache.acme.example-2026", Catalog: "acme", PublicKeyFile: "pub/n.pub", PrivateKeyPath: "/srv/keys/n.key"}
	if err != nil || got != want {
		t.Errorf("given: %+v, %v\nwant %+v", got, err, want)
	}

	// An inline public key puts the new one under keys/.
	got, err = Successor(p, inline, KeyBlock{PrivateKeyPath: "/k/x.key"})
	if err != nil || got.PublicKeyFile != "keys/partner.example-2.pub" || got.Label != "partner_2" {
		t.Errorf("inline: %+v, %v", got, err)
	}

	for _, tt := range []struct {
		old   *policy.Key
		nk    KeyBlock
		field string
		is    error
	}{
		{old, KeyBlock{Name: "cache.acme.example-2"}, "name", ErrTaken},
		{old, KeyBlock{Name: "bad name"}, "name", nil},
		{old, KeyBlock{Label: "acme_2"}, "label", ErrTaken},
		{old, KeyBlock{Label: "2bad"}, "label", nil},
		{inline, KeyBlock{}, "private_key_path", ErrNoDefault},
		{old, KeyBlock{PrivateKeyPath: "relative.key"}, "private_key_path", nil},
		{old, KeyBlock{PublicKeyFile: "../outside.pub"}, "public_key_file", nil},
		{old, KeyBlock{PublicKeyFile: "/abs.pub"}, "public_key_file", nil},
	} {
		_, err := Successor(p, tt.old, tt.nk)
		var se *SuccessorError
		if !errors.As(err, &se) || se.Field != tt.field || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("Successor(%+v) = %v, want a %s error (%v)", tt.nk, err, tt.field, tt.is)
		}
	}
}

// Only an active key with a public key is rotated.
func TestCheckRotatable(t *testing.T) {
	for _, c := range []struct {
		k   policy.Key
		err string
	}{
		{policy.Key{Label: "a_1", PublicKey: "a-1:x", State: policy.Active}, ""},
		{policy.Key{Label: "a_1", PublicKey: "a-1:x", State: policy.Retired}, "key a_1 is retired; rotate an active key"},
		{policy.Key{Label: "a_1", State: policy.Active}, "key a_1 has no public key yet, so there is nothing to rotate"},
	} {
		err := CheckRotatable(&c.k)
		if c.err == "" && err != nil || c.err != "" && (err == nil || err.Error() != c.err || hint.Of(err) == "") {
			t.Errorf("%+v: %v (hint %q), want %q", c.k, err, hint.Of(err), c.err)
		}
	}
}

// TestAddSuccessor: the rotation's edit, loaded from memory.
func TestAddSuccessor(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"keys.hcl": `catalog "c" {}

key "c_1" {
  name       = "cache.c.example-1"
  catalog    = catalog.c
  public_key = "cache.c.example-1:YD4aoux9KZCdnsMKced3iFsxDijjzuEsQ39hCzbWj4Q="
}
`,
		"targets.hcl": `target "nixos" "direct" {
  trust = [key.c_1]
}

target "nixos" "by_catalog" {
  trust = [catalog.c]
}
`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := LoadFS(os.DirFS(dir), ".", Options{Now: now}).Policy
	old := p.Key("c_1")
	nk, err := Successor(p, old, KeyBlock{PrivateKeyPath: "/k/c-2.key"})
	if err != nil {
		t.Fatal(err)
	}
	es := NewEditSet(dir, Options{Now: now, AbsDir: dir})
	pub := "cache.c.example-2:8cuZqwja0GpV6td1imBrh/Z89GT0dXjn5pGtBBwoTrc="
	trustedBy, err := es.AddSuccessor(old, nk, pub)
	if err != nil || len(trustedBy) != 1 || trustedBy[0] != "nixos.direct" {
		t.Fatalf("AddSuccessor = %q, %v; want the one target that names key.c_1", trustedBy, err)
	}
	res := es.Load()
	if res.HasErrors() {
		t.Fatalf("edited policy: %v", res.Diags)
	}
	k := res.Policy.Key("c_2")
	if k == nil || k.PublicKey != pub || k.Catalog != "c" || k.PublicKeyFile != "keys/cache.c.example-2.pub" {
		t.Fatalf("new key = %+v", k)
	}
	for _, id := range []string{"nixos.direct", "nixos.by_catalog"} {
		if got := len(res.Policy.Target(id).Keys); got != 2 {
			t.Errorf("%s trusts %d keys, want both", id, got)
		}
	}
}
