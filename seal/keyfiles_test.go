package seal

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

func keyFilesFor(t *testing.T, rep *report.Log, forbidden string) (KeyFiles, *policy.Key, *keys.SecretKey) {
	t.Helper()
	sk, err := keys.Generate("cache.example.org-1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := &policy.Key{Label: "main_1", Name: sk.Name, PublicKey: sk.Public().String()}
	outside := func(path string) error {
		if strings.HasPrefix(path, forbidden) {
			return fmt.Errorf("%s is inside the policy directory", path)
		}
		return nil
	}
	return KeyFiles{Outside: outside, Rand: rand.Reader, Rep: rep}, k, sk
}

func TestKeyFilesProve(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	var rep report.Log
	f, k, sk := keyFilesFor(t, &rep, filepath.Join(dir, "repo"))
	path := filepath.Join(dir, "main.key")
	var out bytes.Buffer
	if err := f.Install(&out, k, sk, path, false); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || !strings.HasPrefix(out.String(), "main_1: installed "+path+" (0600); matches cache.example.org-1 (SHA256:") {
		t.Fatalf("Install: %v %v\n%s", fi, err, &out)
	}
	if err := f.Install(&out, k, sk, path, false); err == nil || !strings.HasPrefix(err.Error(), "key main_1: ") {
		t.Errorf("Install over a key file: %v", err)
	}
	if want := fmt.Sprintf("warning: %s is readable by others (mode 0755); consider chmod 700", dir); len(rep) == 0 || rep[0] != want {
		t.Errorf("told %q, want %q first", rep, want)
	}
	rep = nil
	proof, err := f.Prove(k, path)
	if err != nil || !proof.Match || len(rep) != 0 {
		t.Fatalf("Prove: %v %v, told %q", proof, err, rep)
	}
	os.Chmod(path, 0o644)
	if _, err := f.Prove(k, path); err != nil || len(rep) != 1 || rep[0] != fmt.Sprintf("warning: %s is readable by group or others (mode 0644); run: chmod 600 %s", path, path) {
		t.Errorf("exposed: %v, told %q", err, rep)
	}
	_, err = f.Prove(k, filepath.Join(dir, "nope.key"))
	if err == nil || !strings.HasPrefix(err.Error(), "key main_1: ") || !strings.HasPrefix(hint.Of(err), "install the key first (keyform unseal main_1") {
		t.Errorf("missing: %v (%s)", err, hint.Of(err))
	}
	if _, err := f.Prove(k, filepath.Join(dir, "repo", "k")); err == nil || !strings.Contains(err.Error(), "inside the policy directory") {
		t.Errorf("inside the repository: %v", err)
	}
}

func TestWarnRotation(t *testing.T) {
	k := &policy.Key{Label: "main_1", SealedFile: "sealed/main_1.age"}
	st := &Status{Key: k,
		Want:    []Entry{{Publishers: []string{"alice"}, Recipient: "age1new"}},
		Removed: []Entry{{Publishers: []string{"alice"}, Recipient: "age1old"}, {Publishers: []string{"bob"}, Recipient: "age1bob"}},
	}
	var rep report.Log
	st.WarnRotation(&rep)
	want := report.Log{
		"warning: main_1: bob could decrypt sealed/main_1.age before (git history keeps the old file) and may still hold the key; rotate it: keyform rotate main_1",
		"note: main_1: a recipient key of alice was removed; it can still open older versions of sealed/main_1.age, so if it was lost or stolen, rotate: keyform rotate main_1",
	}
	if fmt.Sprint(rep) != fmt.Sprint(want) {
		t.Errorf("told %q", rep)
	}
	rep = nil
	(&Status{Key: k, Want: st.Want}).WarnRotation(&rep)
	if len(rep) != 0 {
		t.Errorf("nothing removed, told %q", rep)
	}
}
