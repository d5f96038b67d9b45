package cachegen

import (
	"bytes"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/keys"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

func key(t *testing.T, name string, seed byte) *keys.SecretKey {
	var s [32]byte
	s[0] = seed
	sk, err := keys.Generate(name, mrand.NewChaCha8(s))
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

// Every narinfo parses, is named after its path's hash, carries one valid
// signature per signer, and the cache is the same bytes for the same seed.
func TestGenerate(t *testing.T) {
	a, b := key(t, "a-1", 1), key(t, "b-1", 2)
	o := Options{Paths: 50, Signers: []*keys.SecretKey{a, b}, Seed: 7}
	dir1, dir2 := t.TempDir(), t.TempDir()
	ps, err := Generate(dir1, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(dir2, o); err != nil {
		t.Fatal(err)
	}
	refs := 0
	for _, p := range ps {
		text, err := os.ReadFile(filepath.Join(dir1, p.Hash+".narinfo"))
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := os.ReadFile(filepath.Join(dir2, p.Hash+".narinfo")); !bytes.Equal(text, again) {
			t.Fatalf("%s differs between two runs with one seed", p.Hash)
		}
		n, err := keys.ParseNarinfo(text)
		if err != nil {
			t.Fatalf("%s: %v", p.Hash, err)
		}
		if n.StorePath != p.StorePath || !strings.HasPrefix(filepath.Base(n.StorePath), p.Hash+"-") {
			t.Fatalf("narinfo %s holds %s", p.Hash, n.StorePath)
		}
		// Nix calls a 52-character sha256 corrupt unless it starts with 0 or 1.
		if c := n.NarHash[len("sha256:")]; c != '0' && c != '1' {
			t.Fatalf("NarHash %s", n.NarHash)
		}
		for _, sk := range o.Signers {
			if ok, err := sk.Public().VerifyNarinfo(n); !ok || err != nil {
				t.Fatalf("%s: signature by %s does not verify: %v", p.Hash, sk.Name, err)
			}
		}
		if len(n.Sigs) != 2 {
			t.Fatalf("%d signatures", len(n.Sigs))
		}
		refs += len(n.References)
	}
	if refs == 0 {
		t.Fatal("no path has references")
	}
}

// Real Nix trusts a generated cache with the signer's key and distrusts it
// without.
func TestGenerateNixVerifies(t *testing.T) {
	if _, err := exec.LookPath("nix"); err != nil {
		if os.Getenv("KEYFORM_REQUIRE_NIX") == "1" {
			t.Fatal("nix is not on PATH but KEYFORM_REQUIRE_NIX=1")
		}
		t.Skip("nix is not on PATH")
	}
	a, b := key(t, "a-1", 1), key(t, "b-1", 2)
	dir := t.TempDir()
	if _, err := Generate(dir, Options{Paths: 30, Signers: []*keys.SecretKey{a}, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	verify := func(pub string) int {
		cmd := exec.Command("nix", "--extra-experimental-features", "nix-command", "store", "verify",
			"--store", "file://"+dir, "--all", "--no-contents", "--trusted-public-keys", pub)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return 0
	}
	if code := verify(a.Public().String()); code != 0 {
		t.Fatalf("nix store verify with the signer's key exited %d", code)
	}
	if code := verify(b.Public().String()); code != 2 {
		t.Fatalf("nix store verify with another key exited %d, want 2 (untrusted)", code)
	}
}
