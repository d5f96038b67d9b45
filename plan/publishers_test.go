package plan

import (
	"testing"

	"github.com/keyform/keyform/policy"
)

func TestComparePublishers(t *testing.T) {
	k1 := &policy.Key{Label: "k1", Name: "k-1", State: policy.Active}
	k2 := &policy.Key{Label: "k2", Name: "k-2", State: policy.Retired}
	base := &policy.Policy{Keys: []*policy.Key{k1, k2}, Publishers: []*policy.Publisher{
		{Label: "alice", Keys: []string{"k1"}, Recipients: []string{"age1a"}},
		{Label: "bob", Keys: []string{"k1", "k2"}, Recipients: []string{"age1b"}},
		{Label: "same", Keys: []string{"k1"}, Recipients: []string{"age1s"}},
	}}
	head := &policy.Policy{Keys: []*policy.Key{k1, k2}, Publishers: []*policy.Publisher{
		{Label: "alice", Keys: []string{"k1"}, Recipients: []string{"age1new"}, Flox: true},
		{Label: "carol", Keys: []string{"k1"}, Recipients: []string{"age1c"}},
		{Label: "same", Keys: []string{"k1"}, Recipients: []string{"age1s"}},
	}}
	p := Compare(base, head)
	if !p.Changed || len(p.Publishers) != 3 {
		t.Fatalf("publishers = %+v", p.Publishers)
	}
	got := map[string]PublisherChange{}
	for _, pc := range p.Publishers {
		got[pc.Label] = pc
	}
	if a := got["alice"]; a.Change != Modified || a.Flox == nil || len(a.RecipientsAdded) != 1 || a.RecipientsRemoved[0] != "age1a" {
		t.Errorf("alice = %+v", a)
	}
	if b := got["bob"]; b.Change != Removed || len(b.KeysRemoved) != 2 {
		t.Errorf("bob = %+v", b)
	}
	if c := got["carol"]; c.Change != Added || c.KeysAdded[0] != "k1" {
		t.Errorf("carol = %+v", c)
	}
	codes := map[string]string{}
	for _, n := range p.Notes {
		codes[n.Subject+" "+n.Code] = n.Level
	}
	// bob loses k1 (active: rotate) and k2 (retired: nothing to rotate).
	want := map[string]string{
		"publisher.bob publisher_access_revoked":      Danger,
		"publisher.carol publisher_access_granted":    Info,
		"publisher.alice publisher_recipient_removed": Warning,
	}
	for k, level := range want {
		if codes[k] != level {
			t.Errorf("note %s: level %q, want %q (notes %v)", k, codes[k], level, codes)
		}
	}
	if len(p.Notes) != len(want) {
		t.Errorf("notes = %v, want exactly %v", codes, want)
	}
}
