package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/keys"
)

// Exit statuses of the publishing commands: 0 done or matching, 1 a check
// found a difference, 2 failure. testscript only sees zero or non-zero.
func TestSealExitCodes(t *testing.T) {
	dir := t.TempDir()
	policyDir := filepath.Join(dir, "policy")
	secrets := filepath.Join(dir, "secrets")
	for _, d := range []string{policyDir, secrets} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sk, err := keys.Generate("cache.example.org-1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := keys.Generate("cache.example.org-1", rand.Reader)
	alice, _ := age.GenerateX25519Identity()
	mallory, _ := age.GenerateX25519Identity()
	write := func(path string, data string, perm os.FileMode) string {
		if err := os.WriteFile(path, []byte(data), perm); err != nil {
			t.Fatal(err)
		}
		return path
	}
	mainKey := write(filepath.Join(secrets, "main.key"), string(sk.Encode()), 0o600)
	otherKey := write(filepath.Join(secrets, "other.key"), string(other.Encode()), 0o600)
	aliceID := write(filepath.Join(dir, "alice.age"), alice.String()+"\n", 0o600)
	malloryID := write(filepath.Join(dir, "mallory.age"), mallory.String()+"\n", 0o600)
	policy := `catalog "main" {}
key "main_1" {
  name             = "cache.example.org-1"
  catalog          = catalog.main
  public_key       = "` + sk.Public().String() + `"
  private_key_path = "` + mainKey + `"
}
target "nixos" "t" {
  trust = [catalog.main]
}
publisher "alice" {
  keys       = [key.main_1]
  recipients = ["` + alice.Recipient().String() + `"]
}
`
	write(filepath.Join(policyDir, "keyform.hcl"), policy, 0o644)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"reseal check before sealing", []string{"reseal", "--check"}, cli.ExitDiffers},
		{"seal", []string{"seal", "main_1"}, cli.ExitOK},
		{"reseal check after sealing", []string{"reseal", "--check"}, cli.ExitOK},
		{"keys check match", []string{"keys", "check", "main_1"}, cli.ExitOK},
		{"keys check mismatch", []string{"keys", "check", "main_1", "--secret", otherKey}, cli.ExitDiffers},
		{"keys check missing", []string{"keys", "check", "main_1", "--secret", filepath.Join(dir, "nope")}, cli.ExitInvalid},
		{"unseal wrong identity", []string{"unseal", "main_1", "--identity", malloryID, "--out", filepath.Join(out, "m.key")}, cli.ExitInvalid},
		{"unseal", []string{"unseal", "main_1", "--identity", aliceID, "--out", filepath.Join(out, "a.key")}, cli.ExitOK},
		{"unseal existing", []string{"unseal", "main_1", "--identity", aliceID, "--out", filepath.Join(out, "a.key")}, cli.ExitInvalid},
		{"seal wrong secret", []string{"seal", "main_1", "--force", "--secret", otherKey}, cli.ExitInvalid},
		{"publisher setup unknown", []string{"publisher", "setup", "bob"}, cli.ExitInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			e := &cli.Env{Stdin: new(bytes.Buffer), Stdout: &stdout, Stderr: &stderr, Rand: rand.Reader}
			got := run(append([]string{"-C", policyDir}, tt.args...), e)
			if err := os.Chdir(wd); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("keyform %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, got, tt.want, &stdout, &stderr)
			}
			// The secret is never printed, whatever happens.
			secretB64 := string(sk.Encode()[len(sk.Name)+1:])
			if strings.Contains(stdout.String()+stderr.String(), secretB64[:20]) {
				t.Errorf("keyform %v printed the secret key", tt.args)
			}
		})
	}
}
