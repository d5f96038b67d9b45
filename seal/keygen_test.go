package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// CheckGenerate refuses whatever would lose or break a key.
func TestCheckGenerate(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.key")
	os.WriteFile(existing, []byte("x"), 0o600)
	free := filepath.Join(dir, "new.key")
	for _, c := range []struct {
		k       policy.Key
		replace bool
		err     string
	}{
		{policy.Key{PublicKey: "n:x"}, true, "key k1 has an inline public_key, so keygen has nowhere to write a new one"},
		{policy.Key{PublicKeyFile: "keys/k1.pub", PublicKey: "n:x", PrivateKeyPath: free}, false, "key k1 already has a public key in keys/k1.pub; every machine that trusts it would break if it changed"},
		{policy.Key{PublicKeyFile: "keys/k1.pub", PublicKey: "n:x", PrivateKeyPath: free}, true, ""},
		{policy.Key{PublicKeyFile: "keys/k1.pub"}, false, "key k1 has no private_key_path"},
		{policy.Key{PublicKeyFile: "keys/k1.pub", PrivateKeyPath: existing}, false, "key k1: private key file " + existing + " already exists; keyform never overwrites a private key"},
		{policy.Key{PublicKeyFile: "keys/k1.pub", PrivateKeyPath: free}, false, ""},
	} {
		c.k.Label, c.k.Name = "k1", "cache.example.org-1"
		err := CheckGenerate(&c.k, c.replace)
		if c.err == "" && err != nil || c.err != "" && (err == nil || err.Error() != c.err || hint.Of(err) == "") {
			t.Errorf("%+v replace=%v: %v (hint %q), want %q", c.k, c.replace, err, hint.Of(err), c.err)
		}
	}
}

func TestGenerate(t *testing.T) {
	dir, secrets := t.TempDir(), t.TempDir()
	os.Mkdir(filepath.Join(dir, "keys"), 0o755)
	os.Chmod(secrets, 0o700)
	var rep report.Log
	f := KeyFiles{Path: under(dir), Rand: rand.Reader, Rep: &rep}
	a := &policy.Key{Label: "a_1", Name: "a.example-1", PublicKeyFile: "keys/a_1.pub", PrivateKeyPath: filepath.Join(secrets, "a.key")}
	b := &policy.Key{Label: "b_1", Name: "b.example-1", PublicKeyFile: "keys/b_1.pub", PrivateKeyPath: filepath.Join(secrets, "b.key")}
	taken := &policy.Key{Label: "c_1", Name: "c.example-1", PublicKeyFile: "keys/c_1.pub", PrivateKeyPath: filepath.Join(secrets, "c.key")}
	os.WriteFile(taken.PrivateKeyPath, []byte("x"), 0o600)

	var out bytes.Buffer
	if err := f.Generate(&out, []*policy.Key{a, taken}, false); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Generate with a taken path: %v", err)
	}
	if _, err := os.Stat(a.PrivateKeyPath); !errors.Is(err, os.ErrNotExist) || out.Len() != 0 {
		t.Fatalf("a refusal wrote a's secret (%v) or printed %q", err, &out)
	}
	if err := f.Generate(&out, []*policy.Key{a, b}, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for i, k := range []*policy.Key{a, b} {
		sk, err := ReadSecret(&policy.Key{Label: k.Label, Name: k.Name, PublicKey: lines[i]}, k.PrivateKeyPath)
		if err != nil {
			t.Fatalf("%s: printed %q, secret: %v", k.Label, lines[i], err)
		}
		pub, _ := os.ReadFile(filepath.Join(dir, k.PublicKeyFile))
		if fi, _ := os.Stat(k.PrivateKeyPath); fi.Mode().Perm() != 0o600 || string(pub) != sk.Public().String()+"\n" || sk.Name != k.Name {
			t.Errorf("%s: mode %v, public file %q, secret name %s", k.Label, fi.Mode(), pub, sk.Name)
		}
		if want := "key " + k.Label + ": secret written to " + k.PrivateKeyPath + " (0600), public key to " + k.PublicKeyFile; rep[i] != want {
			t.Errorf("told %q, want %q", rep[i], want)
		}
	}
}

func TestGenerateStandalone(t *testing.T) {
	dir := t.TempDir()
	f := KeyFiles{Path: under(dir), Rand: rand.Reader, Rep: new(report.Log)}
	secret := filepath.Join(dir, "s", "n.key")
	pk, err := f.GenerateStandalone("n-1", secret, "n.pub")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(secret)
	sk, err := keys.ParseSecretKey(string(data))
	pub, _ := os.ReadFile(filepath.Join(dir, "n.pub"))
	if err != nil || !sk.Public().Equal(pk) || string(pub) != pk.String()+"\n" || pk.Name != "n-1" {
		t.Fatalf("secret %v, public file %q, returned %v", err, pub, pk)
	}
	other := filepath.Join(dir, "other.key")
	if _, err := f.GenerateStandalone("n-2", other, "n.pub"); err == nil || err.Error() != "--public-out n.pub already exists; not overwriting it" {
		t.Errorf("over a public key file: %v", err)
	}
	if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused, yet the secret was written: %v", err)
	}
	if _, err := f.GenerateStandalone("n-3", secret, ""); err == nil {
		t.Error("overwrote a secret key")
	}
	if again, _ := os.ReadFile(secret); !bytes.Equal(again, data) {
		t.Error("the secret changed")
	}
}

// under resolves paths as the keyform command does (cli.Env.Path):
// relative ones under dir.
func under(dir string) func(string) string {
	return func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
}
