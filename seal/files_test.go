package seal

import (
	"errors"
	"io/fs"
	"os"
	"testing"

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
	ids := parseIDs(t, alice, "")

	if _, err := OpenKey(dir, k, ids...); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenKey before sealing = %v, want a missing file", err)
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
	got, err := OpenKey(dir, k, ids...)
	if err != nil || !got.Equal(sk) {
		t.Fatalf("OpenKey = %v, %v", got, err)
	}

	// The policy's key was replaced after sealing: the sealed key is refused.
	replaced := *k
	replaced.PublicKey = nixKey(t, k.Name).Public().String()
	var me *MismatchError
	if _, err := OpenKey(dir, &replaced, ids...); !errors.As(err, &me) || !me.Got.Equal(sk.Public()) {
		t.Errorf("OpenKey with a replaced public key = %v, want a *MismatchError", err)
	}
	if _, err := OpenKey(dir, k, parseIDs(t, ageIdentity(t), "")...); !errors.Is(err, ErrNoMatch) {
		t.Errorf("OpenKey with a stranger's identity = %v, want ErrNoMatch", err)
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
