package keys

import (
	"bytes"
	"crypto/rand"
	"testing"
	"testing/iotest"
)

func TestProve(t *testing.T) {
	sk, err := Generate("cache.example.org-1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := Generate("cache.example.org-1", rand.Reader)
	renamed, err := ParseSecretKey("cache.example.org-2:" + string(sk.Encode()[len(sk.Name)+1:]))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		sk   *SecretKey
		want bool
	}{
		{"its own key", sk, true},
		{"another key under the same name", other, false},
		// Same bytes, other name: Nix would not use it for pk's signatures.
		{"the same key under another name", renamed, false},
	} {
		got, err := Prove(tt.sk, sk.Public(), rand.Reader)
		if err != nil || got != tt.want {
			t.Errorf("%s: Prove = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	// The message is random: a failing source is an error, not a verdict.
	if _, err := Prove(sk, sk.Public(), iotest.ErrReader(bytes.ErrTooLarge)); err == nil {
		t.Error("Prove with a failing rand: no error")
	}
	// It reads exactly 32 bytes, so a seeded source stays in step.
	r := bytes.NewReader(make([]byte, 40))
	if _, err := Prove(sk, sk.Public(), r); err != nil || r.Len() != 8 {
		t.Errorf("Prove read %d bytes (err %v), want 32", 40-r.Len(), err)
	}
}
