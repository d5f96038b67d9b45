package plan

import (
	"path/filepath"
	"testing"

	"github.com/keyform/keyform/internal/golden"
)

// everyFact is a plan that says every kind of fact, with the edge cases
// the forms spell specially (unset values, a target that trusts no key,
// a catalog without active keys, a key replaced under the same name).
func everyFact() *Plan {
	k1 := KeyRef{Label: "acme_1", Name: "cache.acme.example-1", Catalog: "acme", Fingerprint: "SHA256:one"}
	k2 := KeyRef{Label: "acme_2", Name: "cache.acme.example-1", Catalog: "acme", Fingerprint: "SHA256:two"}
	before := &Key{Label: "acme_1", Name: "cache.acme.example-1", Catalog: "acme", State: "active", Fingerprint: "SHA256:one",
		PublicKeyFile: "keys/acme-1.pub"}
	after := &Key{Label: "acme_1", Name: "cache.acme.example-9", State: "retired", Fingerprint: "SHA256:nine",
		PrivateKeyPath: "/var/lib/keyform/acme-1.key", Expires: "2027-06-30"}
	p := &Plan{Version: Version, Base: "main", Head: "working tree", Changed: true,
		Notes: []Note{{Level: Danger, Code: "public_key_replaced", Subject: "key.acme_1", Message: "The public key changed."}},
		Targets: []TargetChange{
			{ID: "nixos.build", Kind: "nixos", Label: "build", Change: Modified, KeysAdded: []KeyRef{k2}, KeysRemoved: []KeyRef{k1},
				SubstitutersAdded: []string{"https://new.example"}, SubstitutersRemoved: []string{"https://old.example"},
				TrustAdded: []string{"key.acme_2"}, TrustRemoved: []string{"catalog.acme"},
				Exclusive: &BoolChange{Before: false, After: true}, TrustedAfter: 1},
			{ID: "nixconf.ci", Kind: "nixconf", Label: "ci", Change: Added, Path: &StringChange{After: "/etc/nix/nix.custom.conf"}},
			{ID: "darwin.old", Kind: "darwin", Label: "old", Change: Removed, KeysRemoved: []KeyRef{k1}},
		},
		Keys: []KeyChange{
			{Label: "acme_1", Change: Modified, Fields: []string{FieldState, FieldName, FieldPublicKey, FieldCatalog, FieldExpires, FieldPublicKeyFile, FieldPrivateKeyPath},
				Before: before, After: after},
			{Label: "acme_2", Change: Modified, Fields: []string{FieldState}, Before: after, After: before},
			{Label: "acme_3", Change: Created, Fields: []string{}, After: before},
			{Label: "acme_4", Change: Removed, Fields: []string{}, Before: after},
		},
		Catalogs: []CatalogChange{
			{Label: "acme", Change: Modified, SubstitutersAdded: []string{"https://new.example"}, SubstitutersRemoved: []string{"https://old.example"}},
			{Label: "gone", Change: Removed},
			{Label: "more", Change: Added, ActiveKeysAfter: 2},
		},
		Publishers: []PublisherChange{
			{Label: "ci", Change: Modified, KeysAdded: []string{"acme_2"}, KeysRemoved: []string{"acme_1"},
				RecipientsAdded: []string{"age1new"}, RecipientsRemoved: []string{"age1old"}, Flox: &BoolChange{Before: true}},
		},
	}
	return p
}

// Both forms show every fact the walk makes, as the goldens record
// (go test ./plan -update rewrites them).
func TestFormsShowEveryFact(t *testing.T) {
	p := everyFact()
	seen := map[factKind]bool{}
	for _, s := range p.sections() {
		for _, e := range s.entries {
			for _, f := range e.facts {
				seen[f.kind] = true
			}
		}
	}
	for k := range numFactKinds {
		if !seen[k] {
			t.Errorf("everyFact makes no fact of kind %d; extend it", k)
		}
	}
	golden.File(t, filepath.Join("testdata", "every_fact.txt"), p.Text())
	golden.File(t, filepath.Join("testdata", "every_fact.md"), p.Markdown())
}
