package seal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/hint"
)

// Unseal installs where the policy or --out says, after checking the path
// and before asking for identities; an existing file needs Force.
func TestUnseal(t *testing.T) {
	x := newSealFixture(t)
	_, s, _ := x.files.SealKey(x.p, x.main, "", false)
	s.Write(x.dir)
	asked := 0
	ids := func() (*Identities, error) { asked++; return x.ids, nil }
	var out bytes.Buffer

	// The policy's path is taken: refused before identities are asked for.
	err := x.files.Unseal(&out, x.p, x.main, Unseal{}, ids)
	if err == nil || err.Error() != x.main.PrivateKeyPath+" already exists; keyform never overwrites a private key" || asked != 0 {
		t.Errorf("existing file: %v (asked %d)", err, asked)
	}
	if err := x.files.Unseal(&out, x.p, x.main, Unseal{Force: true}, ids); err != nil || asked != 1 {
		t.Errorf("forced: %v", err)
	}

	to := filepath.Join(t.TempDir(), "k", "main.key")
	out.Reset()
	if err := x.files.Unseal(&out, x.p, x.main, Unseal{Out: to + "/"}, ids); err != nil || !strings.HasPrefix(out.String(), "main_1: installed "+to+" (0600)") {
		t.Fatalf("--out: %v\n%s", err, &out)
	}
	if got, _ := os.ReadFile(to); !bytes.Equal(got, x.sk.Encode()) {
		t.Error("--out holds another key")
	}

	if err := x.files.Unseal(&out, x.p, x.main, Unseal{Publisher: "bob"}, ids); err == nil || err.Error() != `no publisher "bob" in the policy` {
		t.Errorf("unknown publisher: %v", err)
	}
	x.main.PrivateKeyPath = ""
	if err := x.files.Unseal(&out, x.p, x.main, Unseal{}, ids); err == nil || !strings.Contains(hint.Of(err), "pass --out /absolute/path") {
		t.Errorf("nowhere to install: %v", err)
	}
	x.files.Outside = func(path string) error { return fmt.Errorf("%s is inside the repository", path) }
	if err := x.files.Unseal(&out, x.p, x.main, Unseal{Out: "/repo/k.key"}, ids); err == nil || err.Error() != "/repo/k.key is inside the repository" {
		t.Errorf("inside the repository: %v", err)
	}
	x.files.Outside = func(string) error { return nil }
	noIDs := errors.New("no identities")
	if err := x.files.Unseal(&out, x.p, x.main, Unseal{Out: filepath.Join(t.TempDir(), "x.key")}, func() (*Identities, error) { return nil, noIDs }); !errors.Is(err, noIDs) {
		t.Errorf("identities fail: %v", err)
	}
}

// CheckInstalled finds the file as unseal installs it, or takes --secret
// relative to the policy directory, and proves it.
func TestCheckInstalled(t *testing.T) {
	x := newSealFixture(t)
	path, proof, err := x.files.CheckInstalled(x.p, x.main, "", "")
	if err != nil || path != x.main.PrivateKeyPath || !proof.Match {
		t.Errorf("policy path: %s %v %v", path, proof, err)
	}
	os.WriteFile(filepath.Join(x.dir, "other.key"), nixKey(t, x.main.Name).Encode(), 0o600)
	path, proof, err = x.files.CheckInstalled(x.p, x.main, "", "other.key")
	if err != nil || path != filepath.Join(x.dir, "other.key") || proof.Match {
		t.Errorf("--secret with another key: %s %v %v", path, proof, err)
	}
	if _, _, err := x.files.CheckInstalled(x.p, x.main, "nobody", ""); err == nil || err.Error() != `no publisher "nobody" in the policy` {
		t.Errorf("unknown publisher: %v", err)
	}
	if _, _, err := x.files.CheckInstalled(x.p, x.alone, "", ""); err == nil || err.Error() != "key lonely_1 has no private_key_path" || !strings.Contains(hint.Of(err), "keys check lonely_1 --secret") {
		t.Errorf("no path: %v", err)
	}
}
