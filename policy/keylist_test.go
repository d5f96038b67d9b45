package policy

import (
	"encoding/json"
	"testing"
	"time"
)

// The JSON of "keys list --json": stable names, [] for nobody, dates as
// YYYY-MM-DD, the state judged at the given day.
func TestKeyInfos(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	old := &Key{Label: "a_1", Name: "a-1", Catalog: "a", PublicKey: "a-1:x", Fingerprint: "SHA256:f", State: Active, Expires: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	pending := &Key{Label: "b_1", Name: "b-1", State: Active}
	p := &Policy{Keys: []*Key{old, pending}, Targets: []*Target{{Kind: NixOS, Label: "ci", Keys: []*Key{old}}}}
	got, err := json.Marshal(p.KeyInfos(now))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"label":"a_1","name":"a-1","state":"expired","catalog":"a","public_key":"a-1:x","fingerprint":"SHA256:f","expires":"2026-05-01","trusted_by":["nixos.ci"]},` +
		`{"label":"b_1","name":"b-1","state":"pending","trusted_by":[]}]`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
