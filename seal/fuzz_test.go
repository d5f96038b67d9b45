package seal

import (
	"strings"
	"testing"

	"github.com/keyform/keyform/policy"
)

func FuzzParseRecipient(f *testing.F) {
	for _, s := range []string{"age1", "age1qqqq", "age1yubikey1qq", "age1pq1qq", "age1tag1qq", "ssh-ed25519 AAAA", "ssh-rsa AAAA x", "ecdsa-sha2-nistp256 AAAA", " age1", "AGE-SECRET-KEY-1QQ"} {
		f.Add(s)
	}
	f.Add(ageIdentity(f).recipient)
	f.Add(sshEd25519Identity(f, "").recipient)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecipient(s)
		if (r == nil) == (err == nil) {
			t.Fatalf("ParseRecipient(%q) = %v, %v", s, r, err)
		}
		if err != nil && policy.RecipientLooksSecret(s) && len(s) > 20 && strings.Contains(err.Error(), s[:20]) {
			t.Fatalf("error echoes a secret-looking input: %v", err)
		}
		if err == nil {
			if _, err := ParseRecipient(policy.CanonicalRecipient(s)); err != nil && !strings.HasPrefix(s, "age1") {
				t.Fatalf("canonical form of %q does not parse: %v", s, err)
			}
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	p, _ := testPolicy(f)
	k := p.Keys[0]
	f.Add((&Record{Key: k.Label, PublicKey: k.PublicKey, SHA256: Hash(nil), Entries: Want(p, k)}).Marshal())
	f.Add([]byte("key a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecord(data)
		if err != nil {
			return
		}
		// Whatever parses re-encodes to something that parses the same.
		again, err := ParseRecord(r.Marshal())
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, r.Marshal())
		}
		if string(again.Marshal()) != string(r.Marshal()) {
			t.Fatalf("not stable:\n%s\n%s", r.Marshal(), again.Marshal())
		}
	})
}

func FuzzParseIdentities(f *testing.F) {
	f.Add([]byte(ageIdentity(f).file))
	f.Add([]byte(sshEd25519Identity(f, "").file))
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n"))
	f.Add([]byte("# c\n\nAGE-SECRET-KEY-1QQQQ\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := ParseIdentities(data, nil)
		if (len(ids) == 0) == (err == nil) {
			t.Fatalf("ParseIdentities = %d identities, %v", len(ids), err)
		}
	})
}
