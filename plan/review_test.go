package plan

import (
	"bytes"
	"testing"
	"testing/fstest"

	"github.com/keyform/keyform/policy"
)

// TestReview: the plan names its sides and carries the seal and audit
// notes from the policy directory, most severe first.
func TestReview(t *testing.T) {
	mk := func(state policy.KeyState) *policy.Policy {
		return &policy.Policy{Keys: []*policy.Key{ // sorted by label, as loaded
			{Label: "new", Name: "acme-2", Catalog: "acme", PublicKey: "acme-2:x", State: policy.Active, SealedFile: "sealed/new.age"},
			{Label: "old", Name: "acme-1", Catalog: "acme", PublicKey: "acme-1:x", State: state, SealedFile: "sealed/old.age"},
		}, Publishers: []*policy.Publisher{{Label: "ci", Keys: []string{"new"}, Recipients: []string{"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"}}}}
	}
	p, err := Review(fstest.MapFS{}, mk(policy.Active), mk(policy.Retired), "main")
	if err != nil {
		t.Fatal(err)
	}
	if p.Base != "main" || p.Head != "working tree" || !p.Changed {
		t.Errorf("Base %q, Head %q, Changed %v", p.Base, p.Head, p.Changed)
	}
	var codes []string
	for _, n := range p.Notes {
		codes = append(codes, n.Code)
	}
	if !contains(codes, "retire_not_audited") || !contains(codes, "reseal_needed") {
		t.Errorf("notes %q lack the audit or the seal note", codes)
	}
	for i := 1; i < len(p.Notes); i++ {
		rank := map[string]int{Danger: 0, Warning: 1, Info: 2}
		if rank[p.Notes[i-1].Level] > rank[p.Notes[i].Level] {
			t.Errorf("notes out of order: %+v", p.Notes)
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestFormat: --format's names, md being markdown's short name.
func TestFormat(t *testing.T) {
	p := Compare(nil, nil)
	for name, want := range map[string][]byte{"text": p.Text(), "markdown": p.Markdown(), "md": p.Markdown(), "json": p.JSON()} {
		f, ok := Format(name)
		if !ok || !bytes.Equal(f(p), want) {
			t.Errorf("Format(%q) = %v, wrong writer", name, ok)
		}
	}
	if _, ok := Format("yaml"); ok {
		t.Error("Format(yaml) accepted")
	}
}
