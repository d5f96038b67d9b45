package seal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
)

// TestSealedFiles: a key prepared, written, checked, opened and removed,
// as seal, reseal and unseal do it, on a real directory.
func TestSealedFiles(t *testing.T) {
	dir := t.TempDir()
	sk := nixKey(t, "cache.example.org-1")
	alice := ageIdentity(t)
	k := &policy.Key{Label: "main_1", Name: sk.Name, PublicKey: sk.Public().String(), SealedFile: "sealed/main_1.age", State: policy.Active}
	p := &policy.Policy{Keys: []*policy.Key{k}, Publishers: []*policy.Publisher{
		{Label: "alice", Keys: []string{"main_1"}, Recipients: []string{alice.recipient}},
	}}
	ids := &Identities{Path: "alice.txt", IDs: parseIDs(t, alice, "")}

	if _, err := OpenKey(dir, k, ids); err == nil || err.Error() != "key main_1 is not sealed: sealed/main_1.age does not exist" ||
		hint.Of(err) != `someone who holds the private key runs "keyform seal main_1" and commits sealed/main_1.age` {
		t.Fatalf("OpenKey before sealing = %v (hint %q)", err, hint.Of(err))
	}
	st, err := Check(os.DirFS(dir), p, k)
	if err != nil || st.State != Missing {
		t.Fatalf("Check before sealing = %v, %v", st, err)
	}
	s, err := Prepare(st, sk)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(dir); err != nil {
		t.Fatal(err)
	}
	if st, err := Check(os.DirFS(dir), p, k); err != nil || st.State != Current {
		t.Fatalf("Check after Write = %v (%q), %v; want current", st.State, st.Reasons, err)
	}
	got, err := OpenKey(dir, k, ids)
	if err != nil || !got.Equal(sk) {
		t.Fatalf("OpenKey = %v, %v", got, err)
	}

	// The policy's key was replaced after sealing: the sealed key is refused.
	replaced := *k
	replaced.PublicKey = nixKey(t, k.Name).Public().String()
	var me *MismatchError
	if _, err := OpenKey(dir, &replaced, ids); !errors.As(err, &me) || !me.Got.Equal(sk.Public()) || !strings.Contains(hint.Of(err), "replaced after it was sealed") {
		t.Errorf("OpenKey with a replaced public key = %v, want a *MismatchError", err)
	}
	if _, err := OpenKey(dir, k, &Identities{Path: "stranger.txt", IDs: parseIDs(t, ageIdentity(t), "")}); !errors.Is(err, ErrNoMatch) || !strings.Contains(err.Error(), "with stranger.txt") {
		t.Errorf("OpenKey with a stranger's identity = %v, want ErrNoMatch", err)
	}

	// Resealing reads the secret from the sealed file, else from the
	// private key path, else says where to get it.
	if got, err := ResealSecret(dir, k, ids); err != nil || !got.Equal(sk) {
		t.Errorf("ResealSecret with an identity = %v, %v", got, err)
	}
	if _, err := ResealSecret(dir, k, nil); err == nil || !strings.Contains(hint.Of(err), "pass --identity") {
		t.Errorf("ResealSecret with nothing to read = %v", err)
	}
	k.PrivateKeyPath = filepath.Join(dir, "main.key")
	if err := os.WriteFile(k.PrivateKeyPath, sk.Encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ResealSecret(dir, k, nil); err != nil || !got.Equal(sk) {
		t.Errorf("ResealSecret from the private key file = %v, %v", got, err)
	}

	if err := Remove(dir, k); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir, k); err != nil {
		t.Errorf("Remove of removed files = %v", err)
	}
	if st, _ := Check(os.DirFS(dir), p, k); st.State != Missing {
		t.Errorf("Check after Remove = %s, want missing", st.State)
	}
}

// TestReadSecret: the secret to seal must be the policy's key.
func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	sk, other := nixKey(t, "cache.example.org-1"), nixKey(t, "cache.example.org-1")
	k := &policy.Key{Label: "main_1", Name: sk.Name, PublicKey: sk.Public().String()}
	good, bad := filepath.Join(dir, "good.key"), filepath.Join(dir, "other.key")
	os.WriteFile(good, sk.Encode(), 0o600)
	os.WriteFile(bad, other.Encode(), 0o600)
	if got, err := ReadSecret(k, good); err != nil || !got.Equal(sk) {
		t.Errorf("ReadSecret(its key) = %v, %v", got, err)
	}
	_, err := ReadSecret(k, bad)
	if err == nil || !strings.HasPrefix(err.Error(), "refusing to seal: "+bad+" holds key") || !strings.Contains(hint.Of(err), "belongs to main_1's public key") {
		t.Errorf("ReadSecret(another key) = %v (hint %q)", err, hint.Of(err))
	}
	if _, err := ReadSecret(k, filepath.Join(dir, "nope")); err == nil || err.Error() != "key main_1: cannot read the private key: "+filepath.Join(dir, "nope")+" does not exist" {
		t.Errorf("ReadSecret(missing) = %v", err)
	}
}

// TestReadIdentities: an identity file is read, and a public key where it
// belongs is explained.
func TestReadIdentities(t *testing.T) {
	dir := t.TempDir()
	alice := ageIdentity(t)
	file := filepath.Join(dir, "alice.txt")
	os.WriteFile(file, alice.file, 0o600)
	ids, err := ReadIdentities(file, nil)
	if err != nil || ids.Path != file || len(ids.IDs) != 1 {
		t.Fatalf("ReadIdentities = %v, %v", ids, err)
	}
	pub := filepath.Join(dir, "recipient.txt")
	os.WriteFile(pub, []byte(alice.recipient+"\n"), 0o600)
	if _, err := ReadIdentities(pub, nil); err == nil || !strings.Contains(err.Error(), "is a public key") || hint.Of(err) == "" {
		t.Errorf("ReadIdentities(a recipient) = %v", err)
	}
}
