package policy

import (
	"testing"

	"github.com/keyform/keyform/internal/hint"
)

// TestCheckRetirable: a key trusted directly or signed with by a publisher
// may not be retired, and the hint names what to remove and where; a key
// trusted through its catalog may.
func TestCheckRetirable(t *testing.T) {
	k := &Key{Label: "old", Catalog: "acme"}
	p := &Policy{
		Keys: []*Key{k},
		Targets: []*Target{
			{Kind: NixOS, Label: "a", Trust: []Ref{{Type: "catalog", Label: "acme"}}},
			{Kind: NixConf, Label: "b", Trust: []Ref{{Type: "key", Label: "old"}}, Pos: Pos{File: "t.hcl", Line: 3, Column: 1}},
		},
		Publishers: []*Publisher{{Label: "ci", Keys: []string{"old"}}},
	}
	err := p.CheckRetirable(k)
	if err == nil || err.Error() != "key old is trusted directly by nixconf.b, and a retired key may not be trusted" ||
		hint.Of(err) != `remove key.old from the trust list of nixconf.b (t.hcl:3:1), then run "keyform retire old" again` {
		t.Errorf("trusted directly: %v (hint %q)", err, hint.Of(err))
	}
	p.Targets = p.Targets[:1]
	err = p.CheckRetirable(k)
	if err == nil || err.Error() != "publisher ci still signs with key old" ||
		hint.Of(err) != `remove key.old from the keys of publisher ci, then run "keyform retire old" again` {
		t.Errorf("publisher: %v (hint %q)", err, hint.Of(err))
	}
	p.Publishers = nil
	if err := p.CheckRetirable(k); err != nil {
		t.Errorf("trusted through its catalog only: %v", err)
	}
}
