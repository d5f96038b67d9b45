package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyform/keyform/policy"
)

const editPolicy = `key "k" {
  name            = "cache.example.org-1"
  public_key_file = "keys/k.pub"
}
`

func TestEditSet(t *testing.T) {
	dir := t.TempDir()
	pub := "cache.example.org-1:YD4aoux9KZCdnsMKced3iFsxDijjzuEsQ39hCzbWj4Q=\n"
	if err := os.WriteFile(filepath.Join(dir, "keyform.hcl"), []byte(editPolicy), 0o640); err != nil {
		t.Fatal(err)
	}
	es := NewEditSet(dir, Options{AllowPending: true, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), AbsDir: dir})
	if names, err := es.PolicyFiles(); err != nil || len(names) != 1 || names[0] != "keyform.hcl" {
		t.Fatalf("PolicyFiles = %q, %v", names, err)
	}
	src, err := es.Current("keyform.hcl")
	if err != nil {
		t.Fatal(err)
	}
	es.Set("keyform.hcl", append(src, "catalog \"c\" {}\n"...))
	es.Set("keys/k.pub", []byte(pub))

	// Loaded from memory: the new catalog and the new public key file.
	res := es.Load()
	if res.HasErrors() || res.Policy.Catalog("c") == nil || res.Policy.Key("k").Pending() {
		t.Fatalf("Load: %v", res.Diags)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys")); err == nil {
		t.Fatal("Load wrote a file")
	}

	if err := es.Write(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keys/k.pub")); string(b) != pub {
		t.Errorf("keys/k.pub = %q", b)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "keyform.hcl")); fi.Mode().Perm() != 0o640 {
		t.Errorf("keyform.hcl mode %04o, want its old 0640", fi.Mode().Perm())
	}

	// A write that fails half-way puts everything back.
	if err := os.WriteFile(filepath.Join(dir, "zz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	es = NewEditSet(dir, Options{})
	before, _ := es.Current("keyform.hcl")
	es.Set("keyform.hcl", []byte("# replaced\n"))
	es.Set("new.pub", []byte(pub))
	es.Set("zz/x.pub", []byte(pub)) // zz is a file: this one fails
	if err := es.Write(); err == nil {
		t.Fatal("Write under a file: no error")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keyform.hcl")); string(b) != string(before) {
		t.Errorf("keyform.hcl not restored: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.pub")); err == nil {
		t.Error("new.pub not removed")
	}
}

// TestEditSetKeyState: the key's state changes in the file declaring it,
// in memory until Write, with the rest of the file kept.
func TestEditSetKeyState(t *testing.T) {
	dir := t.TempDir()
	src := "# keys\n" + editPolicy
	if err := os.WriteFile(filepath.Join(dir, "keys.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	es := NewEditSet(dir, Options{AllowPending: true, AbsDir: dir})
	res := es.Load()
	if res.HasErrors() {
		t.Fatal(res.Diags)
	}
	k := res.Policy.Key("k")
	if err := es.SetKeyState(k, policy.Retired); err != nil {
		t.Fatal(err)
	}
	if res := es.Load(); res.HasErrors() || res.Policy.Key("k").State != policy.Retired {
		t.Fatalf("edited policy: %v", res.Diags)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keys.hcl")); string(b) != src {
		t.Fatal("SetKeyState wrote the file before Write")
	}
	if err := es.Write(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "keys.hcl"))
	if !strings.HasPrefix(string(b), "# keys\n") || !strings.Contains(string(b), `state           = "retired"`) {
		t.Errorf("keys.hcl after Write:\n%s", b)
	}
	if err := es.SetKeyState(&policy.Key{Label: "nope", Pos: k.Pos}, policy.Retired); err == nil {
		t.Error("SetKeyState of an undeclared key succeeded")
	}
}

// TestEditDirEdited: EditDir sets what Load sets (a private key inside
// the policy directory is refused), and Edited prints the diagnostics of
// an edit that does not load and says nothing was written.
func TestEditDirEdited(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keyform.hcl"), []byte(editPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	es, err := EditDir(dir, EditOptions)
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	p, err := es.Edited(&stderr, false)
	if err != nil || p.Key("k") == nil || !p.Key("k").Pending() || stderr.Len() > 0 {
		t.Fatalf("Edited = %v, %v, %q; want the policy with k pending (EditOptions)", p, err, stderr.String())
	}
	src, _ := es.Current("keyform.hcl")
	es.Set("keyform.hcl", append(src, "key \"inside\" {\n  name = \"x-1\"\n  public_key_file = \"keys/k.pub\"\n  private_key_path = \""+filepath.Join(dir, "x.sk")+"\"\n}\n"...))
	if p, err = es.Edited(&stderr, false); p != nil || err == nil || err.Error() != "the edited policy does not validate, so nothing was written" {
		t.Fatalf("Edited with a private key inside the policy directory = %v, %v", p, err)
	}
	if !strings.Contains(stderr.String(), "keyform.hcl:") || !strings.Contains(stderr.String(), "policy directory") {
		t.Errorf("diagnostics not printed: %q", stderr.String())
	}
}

// TestWriteKeyState: the state is written only once the edited policy
// loads with it; an edit that does not load writes nothing.
func TestWriteKeyState(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "keyform.hcl")
	if err := os.WriteFile(name, []byte(editPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	es, err := EditDir(dir, EditOptions)
	if err != nil {
		t.Fatal(err)
	}
	p, err := es.Edited(os.Stderr, false)
	if err != nil {
		t.Fatal(err)
	}
	k := p.Key("k")
	var stderr strings.Builder
	broken, _ := es.Current("keyform.hcl")
	es.Set("keyform.hcl", append(broken, "catalog \"c\" {\n  bogus = 1\n}\n"...))
	if err := es.WriteKeyState(k, policy.Retired, &stderr, false); err == nil || stderr.Len() == 0 {
		t.Fatalf("WriteKeyState over a broken edit = %v, printed %q", err, stderr.String())
	}
	if b, _ := os.ReadFile(name); string(b) != editPolicy {
		t.Fatalf("a failed WriteKeyState wrote:\n%s", b)
	}
	if es, err = EditDir(dir, EditOptions); err != nil {
		t.Fatal(err)
	}
	if err := es.WriteKeyState(k, policy.Retired, &stderr, false); err != nil {
		t.Fatal(err)
	}
	res := Load(dir, EditOptions)
	if res.HasErrors() || res.Policy.Key("k").State != policy.Retired {
		t.Errorf("after WriteKeyState: %v, state %v", res.Diags, res.Policy.Key("k").State)
	}
}
