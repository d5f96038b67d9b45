package resign

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
)

type warnings []string

func (w *warnings) Warnf(format string, args ...any) { *w = append(*w, fmt.Sprintf(format, args...)) }

// TestKeySource: which file is the secret key, that it must be outside the
// policy directory and be the key's, the warning about its mode, and the
// printed command's proof. No error shows key material.
func TestKeySource(t *testing.T) {
	dir := t.TempDir()
	sk, other := genKey(t, "acme-2", 2), genKey(t, "acme-2", 3)
	k := &policy.Key{Label: "acme_2", Name: "acme-2", PublicKey: sk.Public().String()}
	good, wrong, open := filepath.Join(dir, "good.sk"), filepath.Join(dir, "wrong.sk"), filepath.Join(dir, "open.sk")
	for name, data := range map[string][]byte{good: sk.Encode(), wrong: other.Encode(), open: sk.Encode()} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(open, 0o640); err != nil {
		t.Fatal(err)
	}
	var warned warnings
	inside := errors.New("inside the policy directory")
	src := KeySource{Warn: &warned, Outside: func(p string) error {
		if strings.HasPrefix(filepath.Base(p), "in") {
			return inside
		}
		return nil
	}}

	if _, err := src.File(k); err == nil || hint.Of(err) != "pass --secret FILE or keyform unseal acme_2" {
		t.Errorf("File without a path: %v (hint %q)", err, hint.Of(err))
	}
	k.PrivateKeyPath = "/keys/acme-2.sk"
	if f, err := src.File(k); f != "/keys/acme-2.sk" || err != nil {
		t.Errorf("File = %q, %v; want private_key_path", f, err)
	}
	if f, _ := (KeySource{Secret: good}).File(k); f != good {
		t.Errorf("File with --secret = %q", f)
	}

	if got, err := src.Read(k, good); err != nil || got.Name != "acme-2" || len(warned) != 0 {
		t.Fatalf("Read(good) = %v, %v, warnings %q", got, err, warned)
	}
	if _, err := src.Read(k, open); err != nil || len(warned) != 1 || !strings.Contains(warned[0], "chmod 600 "+open) {
		t.Errorf("Read(0640) = %v, warnings %q", err, warned)
	}
	_, err := src.Read(k, wrong)
	_, b64, _ := strings.Cut(string(other.Encode()), ":")
	if err == nil || !strings.HasPrefix(err.Error(), "key acme_2: ") || strings.Contains(err.Error(), b64[:20]) {
		t.Errorf("Read(another key) = %v", err)
	}
	if _, err := src.Read(k, filepath.Join(dir, "missing.sk")); err == nil || !strings.Contains(hint.Of(err), "keyform unseal acme_2") {
		t.Errorf("Read(missing) = %v (hint %q)", err, hint.Of(err))
	}
	if _, err := src.Read(k, filepath.Join(dir, "in.sk")); !errors.Is(err, inside) {
		t.Errorf("Read(inside) = %v, want the Outside error", err)
	}

	// The command is printed for a key file elsewhere, but not for a wrong
	// one here.
	if cmd, err := src.SignCommand(k, "s3://b", "/elsewhere/acme-2.sk", ""); err != nil || cmd != Command("s3://b", "/elsewhere/acme-2.sk", "") {
		t.Errorf("SignCommand(absent key file) = %q, %v", cmd, err)
	}
	if _, err := src.SignCommand(k, "s3://b", wrong, ""); err == nil {
		t.Error("SignCommand accepted another key's file")
	}
}
