package publisher

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/seal"
)

// sealedPolicy is a policy whose one key is sealed under dir to alice's
// age identity, returned with that key's secret.
func sealedPolicy(t *testing.T, dir string) (*policy.Policy, *policy.Publisher, *seal.Identities, *keys.SecretKey) {
	t.Helper()
	sk, err := keys.Generate("cache.example.org-1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	k := &policy.Key{Label: "main_1", Name: sk.Name, PublicKey: sk.Public().String(), SealedFile: "sealed/main_1.age", State: policy.Active,
		PrivateKeyPath: filepath.Join(dir, "policy-path", "main.key")}
	pub := &policy.Publisher{Label: "alice", Keys: []string{"main_1"}, DefaultKey: "main_1", Recipients: []string{id.Recipient().String()}}
	p := &policy.Policy{Keys: []*policy.Key{k}, Publishers: []*policy.Publisher{pub}}
	st, err := seal.Check(os.DirFS(dir), p, k)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seal.Prepare(st, sk)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(dir); err != nil {
		t.Fatal(err)
	}
	return p, pub, &seal.Identities{Path: "alice.txt", IDs: []age.Identity{id}}, sk
}

// A publisher's setup unseals its keys into --out-dir once, then only
// checks them; without an identity it says how to give one.
func TestSetupRun(t *testing.T) {
	dir := t.TempDir()
	p, pub, ids, sk := sealedPolicy(t, dir)
	out := filepath.Join(t.TempDir(), "keys")
	asked := 0
	var rep report.Log
	s := Setup{Dir: dir, OutDir: out + "/", Identities: func() (*seal.Identities, error) { asked++; return ids, nil },
		Files: seal.KeyFiles{Outside: func(string) error { return nil }, Rand: rand.Reader, Rep: &rep},
		Flox:  Flox{Run: func([]string) error { t.Error("flox ran for a publisher without flox"); return nil }}}

	var w bytes.Buffer
	if err := s.Run(&w, &rep, p, pub); err != nil {
		t.Fatal(err)
	}
	installed := filepath.Join(out, "cache.example.org-1.key")
	if got, err := os.ReadFile(installed); err != nil || !bytes.Equal(got, sk.Encode()) {
		t.Fatalf("installed key: %v", err)
	}
	if !strings.HasPrefix(w.String(), "main_1: installed "+installed+" (0600); matches cache.example.org-1 (SHA256:") || asked != 1 {
		t.Errorf("first run (asked %d):\n%s", asked, &w)
	}
	note := fmt.Sprintf("note: the policy does not keep alice's keys in %s; to make it the place, set private_key_dir = %q in publisher \"alice\"", out, out)
	if len(rep) == 0 || rep[len(rep)-1] != note {
		t.Errorf("told %q, want last %q", rep, note)
	}
	if _, err := os.Stat(p.Keys[0].PrivateKeyPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the policy's path was written with --out-dir: %v", err)
	}

	w.Reset()
	s.Identities = nil
	if err := s.Run(&w, &rep, p, pub); err != nil || !strings.HasPrefix(w.String(), "main_1: already installed at "+installed+"; matches ") {
		t.Errorf("second run: %v\n%s", err, &w)
	}

	s.OutDir = ""
	err := s.Run(&w, &rep, p, pub)
	if err == nil || !strings.Contains(err.Error(), "unsealing it needs --identity") || !strings.Contains(hint.Of(err), "publisher setup alice --identity") {
		t.Errorf("policy path, no identity: %v (%s)", err, hint.Of(err))
	}
}

// A place where keys cannot be written gets a hint: another --out-dir, or,
// for the policy's own paths, --out-dir or sudo.
func TestSetupNotWritable(t *testing.T) {
	dir := t.TempDir()
	p, pub, ids, _ := sealedPolicy(t, dir)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	var rep report.Log
	s := Setup{Dir: dir, OutDir: filepath.Join(file, "keys"), Identities: func() (*seal.Identities, error) { return ids, nil },
		Files: seal.KeyFiles{Outside: func(string) error { return nil }, Rand: rand.Reader, Rep: &rep}}
	err := s.Run(new(bytes.Buffer), &rep, p, pub)
	if err == nil || !strings.HasPrefix(hint.Of(err), "choose a directory you can write, such as --out-dir ") {
		t.Errorf("--out-dir under a file: %v (%s)", err, hint.Of(err))
	}
	s.OutDir = ""
	p.Keys[0].PrivateKeyPath = filepath.Join(file, "main.key")
	err = s.Run(new(bytes.Buffer), &rep, p, pub)
	if err == nil || !strings.HasPrefix(hint.Of(err), "install them where you can write: keyform publisher setup alice --out-dir ") || !strings.HasSuffix(hint.Of(err), "or run it with sudo") {
		t.Errorf("policy path under a file: %v (%s)", err, hint.Of(err))
	}
}

// install installs what was unsealed, proves what is in place, and
// fails when a file in place is another key.
func TestInstall(t *testing.T) {
	dir := t.TempDir()
	var rep report.Log
	f, k, sk := keyFiles(t, &rep)
	other, _ := keys.Generate(sk.Name, rand.Reader)
	placed, wrong, fresh := filepath.Join(dir, "placed.key"), filepath.Join(dir, "wrong.key"), filepath.Join(dir, "fresh.key")
	f.Install(new(bytes.Buffer), k, sk, placed, false)
	f.Install(new(bytes.Buffer), k, other, wrong, false)
	pub := &policy.Publisher{Label: "alice"}

	var out bytes.Buffer
	if err := install(&out, f, pub, []seal.Install{{Key: k, Path: placed}, {Key: k, Path: fresh, Secret: sk}}, false); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(out.String(), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "main_1: already installed at "+placed+"; matches ") || !strings.HasPrefix(lines[1], "main_1: installed "+fresh) {
		t.Errorf("output:\n%s", &out)
	}
	out.Reset()
	err := install(&out, f, pub, []seal.Install{{Key: k, Path: wrong}, {Key: k, Path: placed}}, false)
	if err == nil || err.Error() != "publisher alice: a key file in place is not the policy's key" || !strings.Contains(hint.Of(err), "--force --identity FILE") {
		t.Errorf("mismatch: %v", err)
	}
	if !strings.HasPrefix(out.String(), "main_1: "+wrong+" does not match: ") || !strings.Contains(out.String(), "already installed at "+placed) {
		t.Errorf("mismatch output:\n%s", &out)
	}
}

func keyFiles(t *testing.T, rep *report.Log) (seal.KeyFiles, *policy.Key, *keys.SecretKey) {
	t.Helper()
	sk, err := keys.Generate("cache.example.org-1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := &policy.Key{Label: "main_1", Name: sk.Name, PublicKey: sk.Public().String()}
	return seal.KeyFiles{Outside: func(string) error { return nil }, Rand: rand.Reader, Rep: rep}, k, sk
}
