package rotation

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
	"github.com/keyform/keyform/seal"
)

const rotatePolicy = `catalog "c" {}

key "c_1" {
  name       = "cache.c.example-1"
  catalog    = catalog.c
  public_key = "cache.c.example-1:YD4aoux9KZCdnsMKced3iFsxDijjzuEsQ39hCzbWj4Q="
}

target "nixos" "direct" {
  trust = [key.c_1]
}
`

// rotation sets up a policy directory and the successor of its key c_1,
// with the new secret going to secrets/.
func setup(t *testing.T, pubFile string) (seal.KeyFiles, *schema.EditSet, *policy.Key, schema.KeyBlock, func() (*policy.Policy, error)) {
	t.Helper()
	dir, secrets := t.TempDir(), t.TempDir()
	os.Chmod(secrets, 0o700)
	if err := os.WriteFile(filepath.Join(dir, "keyform.hcl"), []byte(rotatePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := schema.Options{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), AbsDir: dir}
	p := schema.LoadFS(os.DirFS(dir), ".", opts).Policy
	old := p.Key("c_1")
	nk, err := schema.Successor(p, old, schema.KeyBlock{PrivateKeyPath: filepath.Join(secrets, "c-2.key"), PublicKeyFile: pubFile})
	if err != nil {
		t.Fatal(err)
	}
	es := schema.NewEditSet(dir, opts)
	validate := func() (*policy.Policy, error) {
		res := es.Load()
		if res.HasErrors() {
			return nil, errors.New("invalid")
		}
		return res.Policy, nil
	}
	f := seal.KeyFiles{Path: func(p string) string { return filepath.Join(dir, p) }, Rand: rand.Reader, Rep: report.Discard{}}
	return f, es, old, nk, validate
}

func TestRotate(t *testing.T) {
	f, es, old, nk, validate := setup(t, "")
	r, err := Rotate(f, es, old, nk, validate)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.TrustedBy) != 1 || r.TrustedBy[0] != "nixos.direct" || !strings.HasPrefix(r.PublicKey, "cache.c.example-2:") {
		t.Errorf("Rotation = %+v", r)
	}
	sk, err := seal.ReadSecret(&policy.Key{Label: nk.Label, Name: nk.Name, PublicKey: r.PublicKey}, nk.PrivateKeyPath)
	if fi, _ := os.Stat(nk.PrivateKeyPath); err != nil || sk == nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new secret: %v", err)
	}
	pub, _ := os.ReadFile(f.Resolve(nk.PublicKeyFile))
	src, _ := os.ReadFile(f.Resolve("keyform.hcl"))
	if string(pub) != r.PublicKey+"\n" || !strings.Contains(string(src), `key "c_2"`) || !strings.Contains(string(src), "trust = [key.c_1, key.c_2]") {
		t.Errorf("public key file %q, policy:\n%s", pub, src)
	}

	// Run again with the same successor: its secret is there now.
	if _, err := Rotate(f, es, old, nk, validate); err == nil || !strings.Contains(err.Error(), "already exists; keyform never overwrites a private key") {
		t.Errorf("second rotation: %v", err)
	}
}

// A rotation that fails leaves neither secret nor policy edit behind.
func TestRotateFails(t *testing.T) {
	f, es, old, nk, _ := setup(t, "")
	invalid := func() (*policy.Policy, error) { return nil, errors.New("the edited policy does not validate") }
	if _, err := Rotate(f, es, old, nk, invalid); err == nil || err.Error() != "the edited policy does not validate" {
		t.Errorf("invalid edit: %v", err)
	}
	if _, err := os.Lstat(nk.PrivateKeyPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("invalid edit wrote the secret: %v", err)
	}
	if src, _ := os.ReadFile(f.Resolve("keyform.hcl")); string(src) != rotatePolicy {
		t.Errorf("invalid edit changed the policy:\n%s", src)
	}

	// The public key file cannot be written: the secret is removed again.
	f, es, old, nk, validate := setup(t, "blocker/c-2.pub")
	os.WriteFile(f.Resolve("blocker"), nil, 0o644)
	_, err := Rotate(f, es, old, nk, validate)
	if err == nil || !strings.HasSuffix(err.Error(), "(the new secret key was removed again)") {
		t.Errorf("policy write fails: %v", err)
	}
	if _, err := os.Lstat(nk.PrivateKeyPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the secret stayed: %v", err)
	}
	if after, _ := os.ReadFile(f.Resolve("keyform.hcl")); string(after) != rotatePolicy {
		t.Errorf("the policy changed:\n%s", after)
	}
}

// The report names what changed, the publishers still signing with the
// old key, and the way to retire it.
func TestReport(t *testing.T) {
	old := &policy.Key{Label: "c_1", Name: "c-1", Pos: policy.Pos{File: "keys.hcl"}}
	r := &Rotation{Old: old, TrustedBy: []string{"nixos.a", "darwin.b"},
		New: schema.KeyBlock{Label: "c_2", Name: "c-2", Catalog: "c", PrivateKeyPath: "/k/c-2.key", PublicKeyFile: "keys/c-2.pub"}}
	p := &policy.Policy{Keys: []*policy.Key{old}, Publishers: []*policy.Publisher{{Label: "ci", Keys: []string{"c_1"}}, {Label: "other"}}}
	var got report.Log
	r.Report(&got, p)
	want := report.Log{
		"key c_2 (c-2) added after c_1 in keys.hcl, in catalog c",
		"key c_2: secret written to /k/c-2.key (0600), public key to keys/c-2.pub",
		"key.c_2 added next to key.c_1 in the trust list of nixos.a, darwin.b",
		`publisher ci signs with key.c_1; when it should sign with the new key, add key.c_2 to its keys and run "keyform seal c_2"`,
		`next: run "keyform render", review with "keyform plan", merge and roll out; once every machine trusts c-2, sign with it and run "keyform retire c_1"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("report:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r.New.Catalog, r.TrustedBy, p.Publishers = "", nil, nil
	got = nil
	if r.Report(&got, p); len(got) != 3 || !strings.HasSuffix(got[0], "in no catalog") {
		t.Errorf("no catalog, trust lists or publishers:\n%s", strings.Join(got, "\n"))
	}
}
