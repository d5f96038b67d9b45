package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"golang.org/x/crypto/ssh"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// testIdentity is a freshly generated identity file and its recipient.
// Identities are secrets, so they are made at test time, never committed.
type testIdentity struct {
	name      string
	file      []byte // identity file contents
	recipient string
}

func ageIdentity(t testing.TB) testIdentity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return testIdentity{"age", []byte("# created: test\n# public key: " + id.Recipient().String() + "\n" + id.String() + "\n"), id.Recipient().String()}
}

func pqIdentity(t testing.TB) testIdentity {
	t.Helper()
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return testIdentity{"age-pq", []byte(id.String() + "\n"), id.Recipient().String()}
}

// SSHEd25519Identity returns an OpenSSH private key file, encrypted when
// passphrase is not empty, and its authorized_keys line.
func sshEd25519Identity(t testing.TB, passphrase string) testIdentity {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return sshIdentity(t, "ssh-ed25519", pub, priv, passphrase)
}

var rsaOnce = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func sshRSAIdentity(t testing.TB) testIdentity {
	k := rsaOnce()
	return sshIdentity(t, "ssh-rsa", &k.PublicKey, k, "")
}

func sshIdentity(t testing.TB, name string, pub, priv any, passphrase string) testIdentity {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test@host")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test@host", []byte(passphrase))
		name += "-encrypted"
	}
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " test@host"
	return testIdentity{name, pem.EncodeToMemory(block), line}
}

func nixKey(t testing.TB, name string) *keys.SecretKey {
	t.Helper()
	sk, err := keys.Generate(name, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func parseIDs(t testing.TB, id testIdentity, pass string) []age.Identity {
	t.Helper()
	ids, err := ParseIdentities(id.file, func() ([]byte, error) { return []byte(pass), nil })
	if err != nil {
		t.Fatalf("%s: ParseIdentities: %v", id.name, err)
	}
	return ids
}

func TestRoundTrip(t *testing.T) {
	sk := nixKey(t, "cache.example.org-1")
	ids := []testIdentity{ageIdentity(t), sshEd25519Identity(t, ""), sshRSAIdentity(t), sshEd25519Identity(t, "correct horse")}
	var recipients []string
	for _, id := range ids {
		recipients = append(recipients, id.recipient)
	}
	var sealed bytes.Buffer
	if err := Seal(&sealed, sk, recipients); err != nil {
		t.Fatal(err)
	}
	text := sealed.String()
	if !strings.HasPrefix(text, armor.Header+"\n") || !strings.HasSuffix(text, armor.Footer+"\n") {
		t.Fatalf("sealed file is not ASCII-armored:\n%s", text)
	}
	if strings.Contains(text, string(sk.Encode()[len(sk.Name)+1:][:16])) {
		t.Fatal("sealed file contains the secret in clear")
	}
	for _, id := range ids {
		t.Run(id.name, func(t *testing.T) {
			got, err := Open(strings.NewReader(text), parseIDs(t, id, "correct horse")...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Encode(), sk.Encode()) {
				t.Fatal("opened key differs from the sealed one")
			}
		})
	}
	// Sealing twice gives different files: age is randomised, which is why
	// seal does not rewrite a file that is already current.
	var again bytes.Buffer
	if err := Seal(&again, sk, recipients); err != nil {
		t.Fatal(err)
	}
	if again.String() == text {
		t.Fatal("two seals produced identical files")
	}
}

func TestPostQuantum(t *testing.T) {
	sk := nixKey(t, "pq-1")
	pq := pqIdentity(t)
	var sealed bytes.Buffer
	if err := Seal(&sealed, sk, []string{pq.recipient}); err != nil {
		t.Fatal(err)
	}
	got, err := Open(&sealed, parseIDs(t, pq, "")...)
	if err != nil || !bytes.Equal(got.Encode(), sk.Encode()) {
		t.Fatalf("Open = %v, %v", got, err)
	}
	// The schema refuses this mix; age does too.
	err = Seal(&bytes.Buffer{}, sk, []string{pq.recipient, ageIdentity(t).recipient})
	if err == nil || !strings.Contains(err.Error(), "post-quantum") {
		t.Fatalf("sealing to mixed recipients: %v", err)
	}
}

func TestOpenBinary(t *testing.T) {
	sk := nixKey(t, "bin-1")
	id := ageIdentity(t)
	var armored bytes.Buffer
	if err := Seal(&armored, sk, []string{id.recipient}); err != nil {
		t.Fatal(err)
	}
	bin, err := readAll(armor.NewReader(&armored))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(bytes.NewReader(bin), parseIDs(t, id, "")...)
	if err != nil || !bytes.Equal(got.Encode(), sk.Encode()) {
		t.Fatalf("Open(binary) = %v, %v", got, err)
	}
}

func readAll(r interface{ Read([]byte) (int, error) }) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r)
	return b.Bytes(), err
}

func TestWrongIdentity(t *testing.T) {
	sk := nixKey(t, "k-1")
	alice, bob := ageIdentity(t), sshEd25519Identity(t, "")
	var sealed bytes.Buffer
	if err := Seal(&sealed, sk, []string{alice.recipient, bob.recipient}); err != nil {
		t.Fatal(err)
	}
	text := sealed.String()
	for _, mallory := range []testIdentity{ageIdentity(t), sshEd25519Identity(t, ""), sshRSAIdentity(t)} {
		_, err := Open(strings.NewReader(text), parseIDs(t, mallory, "")...)
		if !errors.Is(err, ErrNoMatch) {
			t.Fatalf("%s: Open = %v, want ErrNoMatch", mallory.name, err)
		}
		want := "no identity matched any of the recipients: the file is sealed to 2 recipients (1 X25519, 1 ssh-ed25519), and the identity given is none of them"
		if err.Error() != want {
			t.Fatalf("error:\n%s\nwant:\n%s", err, want)
		}
	}
}

func TestEncryptedSSHKey(t *testing.T) {
	sk := nixKey(t, "k-1")
	carol := sshEd25519Identity(t, "s3cret")
	other := ageIdentity(t)
	var sealed bytes.Buffer
	if err := Seal(&sealed, sk, []string{carol.recipient}); err != nil {
		t.Fatal(err)
	}
	text := sealed.String()

	// Without a way to ask, a protected key is refused up front.
	if _, err := ParseIdentities(carol.file, nil); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("ParseIdentities(protected, nil) = %v", err)
	}
	// A wrong passphrase fails, and says so.
	_, err := Open(strings.NewReader(text), parseIDs(t, carol, "wrong")...)
	if err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("Open with a wrong passphrase: %v", err)
	}
	// The passphrase is asked only when the key is a recipient.
	asked := 0
	ids, err := ParseIdentities(carol.file, func() ([]byte, error) { asked++; return []byte("s3cret"), nil })
	if err != nil {
		t.Fatal(err)
	}
	var toOther bytes.Buffer
	if err := Seal(&toOther, sk, []string{other.recipient}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(&toOther, ids...); !errors.Is(err, ErrNoMatch) || asked != 0 {
		t.Fatalf("Open(not a recipient) = %v, passphrase asked %d times", err, asked)
	}
	if _, err := Open(strings.NewReader(text), ids...); err != nil || asked != 1 {
		t.Fatalf("Open = %v, passphrase asked %d times", err, asked)
	}
}

func TestParseIdentitiesErrors(t *testing.T) {
	const secretish = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
	tests := []struct{ name, file, want string }{
		{"empty", "\n\n", "the identity file is empty"},
		{"recipient", "# mine\n" + ageIdentity(t).recipient + "\n", "line 2 is a public key (recipient), not an identity"},
		{"ssh public key", sshEd25519Identity(t, "").recipient, "line 1 is a public key (recipient), not an identity"},
		{"plugin", "AGE-PLUGIN-YUBIKEY-1QQQQ\n", "line 1 is an age plugin identity"},
		{"age file", armor.Header + "\nAAAA\n" + armor.Footer + "\n", "this is an age-encrypted file, not an identity"},
		{"bad age key", secretish + "\n", "not an age identity file or SSH private key"},
		{"garbage", "hello\n", "not an age identity file or SSH private key"},
		{"bad pem", "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "not a usable SSH private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseIdentities([]byte(tt.file), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "QQQQ") {
				t.Fatalf("error echoes key material: %v", err)
			}
		})
	}
}

func TestSealErrors(t *testing.T) {
	sk := nixKey(t, "k-1")
	if err := Seal(&bytes.Buffer{}, sk, nil); err == nil {
		t.Fatal("sealed to nobody")
	}
	if err := Seal(&bytes.Buffer{}, sk, []string{"age1nope"}); err == nil {
		t.Fatal("sealed to an invalid recipient")
	}
	if _, err := Open(strings.NewReader("hello"), parseIDs(t, ageIdentity(t), "")...); err == nil || !strings.Contains(err.Error(), "not an age-encrypted file") {
		t.Fatalf("Open(garbage) = %v", err)
	}
	// A sealed file that holds something other than a Nix key.
	id := ageIdentity(t)
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	r, _ := age.ParseX25519Recipient(id.recipient)
	w, _ := age.Encrypt(aw, r)
	w.Write([]byte("not a key"))
	w.Close()
	aw.Close()
	if _, err := Open(&buf, parseIDs(t, id, "")...); err == nil || !strings.Contains(err.Error(), "not to a Nix secret key") || strings.Contains(err.Error(), "not a key") {
		t.Fatalf("Open(non-key) = %v", err)
	}
}

func TestParseRecipient(t *testing.T) {
	good := []string{ageIdentity(t).recipient, pqIdentity(t).recipient, sshEd25519Identity(t, "").recipient, sshRSAIdentity(t).recipient,
		strings.Fields(sshEd25519Identity(t, "").recipient)[0] + " " + strings.Fields(sshEd25519Identity(t, "").recipient)[1]}
	for _, s := range good {
		if _, err := ParseRecipient(s); err != nil {
			t.Errorf("ParseRecipient(%.30q): %v", s, err)
		}
	}
	// The text rules live in policy (so schema needs no age); they must
	// agree with what age generates.
	a := sshEd25519Identity(t, "").recipient
	if policy.CanonicalRecipient(a) != policy.CanonicalRecipient(strings.TrimSuffix(a, "test@host")+"other@comment") {
		t.Error("CanonicalRecipient depends on the SSH comment")
	}
	if !policy.IsPostQuantumRecipient(pqIdentity(t).recipient) || policy.IsPostQuantumRecipient(ageIdentity(t).recipient) {
		t.Error("IsPostQuantumRecipient")
	}
	if !policy.RecipientLooksSecret(string(pqIdentity(t).file)) || !policy.RecipientLooksSecret(string(sshEd25519Identity(t, "").file)) {
		t.Error("RecipientLooksSecret misses an age or SSH identity")
	}
}
