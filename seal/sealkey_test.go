package seal

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// sealFixture is a policy directory with two keys, main_1 published by
// alice (who has a recipient) and lonely_1 by nobody, their secrets in
// files outside it.
type sealFixture struct {
	dir   string
	p     *policy.Policy
	main  *policy.Key
	alone *policy.Key
	sk    *keys.SecretKey
	ids   *Identities
	files KeyFiles
	rep   *report.Log
}

func newSealFixture(t *testing.T) *sealFixture {
	t.Helper()
	dir, secrets := t.TempDir(), t.TempDir()
	sk, lone := nixKey(t, "cache.example.org-1"), nixKey(t, "lonely.example.org-1")
	alice := ageIdentity(t)
	main := &policy.Key{Label: "main_1", Name: sk.Name, PublicKey: sk.Public().String(), SealedFile: "sealed/main_1.age", State: policy.Active,
		PrivateKeyPath: filepath.Join(secrets, "main.key")}
	alone := &policy.Key{Label: "lonely_1", Name: lone.Name, PublicKey: lone.Public().String(), SealedFile: "sealed/lonely_1.age", State: policy.Active}
	os.WriteFile(main.PrivateKeyPath, sk.Encode(), 0o600)
	rep := new(report.Log)
	return &sealFixture{
		dir: dir, main: main, alone: alone, sk: sk, rep: rep,
		p: &policy.Policy{Keys: []*policy.Key{main, alone}, Publishers: []*policy.Publisher{
			{Label: "alice", Keys: []string{"main_1"}, Recipients: []string{alice.recipient}},
		}},
		ids:   &Identities{Path: "alice.txt", IDs: parseIDs(t, alice, "")},
		files: KeyFiles{Outside: func(string) error { return nil }, Path: under(dir), Rand: rand.Reader, Rep: rep},
	}
}

// SealKey seals a key once, then leaves it alone unless forced, and says
// what is missing for a key nobody can receive.
func TestSealKey(t *testing.T) {
	x := newSealFixture(t)
	st, s, err := x.files.SealKey(x.p, x.main, "", false)
	if err != nil || s == nil || st.State != Missing {
		t.Fatalf("first seal: %v, %v, %v", st, s, err)
	}
	if err := s.Write(x.dir); err != nil {
		t.Fatal(err)
	}
	if got := st.SealedLine(); got != "sealed main_1 to 1 recipient (alice): sealed/main_1.age" {
		t.Errorf("SealedLine = %q", got)
	}
	st, s, err = x.files.SealKey(x.p, x.main, "", false)
	if err != nil || s != nil || st.CurrentLine() != "current main_1: sealed/main_1.age is sealed to the policy's 1 recipient" {
		t.Errorf("current: %v, %v, %v", st, s, err)
	}
	// --force with --secret: the secret is read from the file named,
	// relative to the policy directory.
	os.WriteFile(filepath.Join(x.dir, "copy.key"), x.sk.Encode(), 0o600)
	if _, s, err := x.files.SealKey(x.p, x.main, "copy.key", true); err != nil || s == nil {
		t.Errorf("forced with --secret: %v, %v", s, err)
	}
	os.WriteFile(filepath.Join(x.dir, "other.key"), nixKey(t, x.main.Name).Encode(), 0o600)
	if _, _, err := x.files.SealKey(x.p, x.main, "other.key", true); err == nil || !strings.HasPrefix(err.Error(), "refusing to seal: "+filepath.Join(x.dir, "other.key")) {
		t.Errorf("another key: %v", err)
	}
	if _, _, err := x.files.SealKey(x.p, x.alone, "", false); err == nil || err.Error() != "key lonely_1 has no recipients: no publisher with recipients lists it" {
		t.Errorf("no recipients: %v", err)
	}
	x.p.Publishers[0].Keys = append(x.p.Publishers[0].Keys, "lonely_1")
	if _, _, err := x.files.SealKey(x.p, x.alone, "", false); err == nil || !strings.Contains(hint.Of(err), "--secret FILE") {
		t.Errorf("no private key path: %v", err)
	}
}

// Reseal reports, writes what changed and removes what nobody wants.
func TestResealReportAndWrite(t *testing.T) {
	x := newSealFixture(t)
	_, s, _ := x.files.SealKey(x.p, x.main, "", false)
	s.Write(x.dir)
	bob := ageIdentity(t)
	x.p.Publishers = append(x.p.Publishers, &policy.Publisher{Label: "bob", Keys: []string{"main_1"}, Recipients: []string{bob.recipient}})

	plan, err := PlanReseal(x.dir, x.p, x.p.Keys, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	outOfDate, failed := ReportReseal(&out, plan, false, true)
	if !outOfDate || failed != nil || !strings.HasPrefix(out.String(), "stale main_1: ") || strings.Contains(out.String(), "lonely_1") {
		t.Errorf("check: %v %v\n%s", outOfDate, failed, &out)
	}
	out.Reset()
	if ReportReseal(&out, plan, true, true); !strings.Contains(out.String(), "unsealed lonely_1: no publisher has recipients for it\n") {
		t.Errorf("named keys:\n%s", &out)
	}

	plan, _ = PlanReseal(x.dir, x.p, x.p.Keys, x.ids, false)
	out.Reset()
	if _, failed := ReportReseal(&out, plan, false, false); failed != nil || out.Len() != 0 {
		t.Errorf("before writing: %v %v\n%s", outOfDate, failed, &out)
	}
	if err := WriteReseal(x.dir, plan, &out, x.rep); err != nil || !strings.HasPrefix(out.String(), "resealed main_1: ") {
		t.Errorf("WriteReseal: %v\n%s", err, &out)
	}
	if st, _ := Check(os.DirFS(x.dir), x.p, x.main); st.State != Current {
		t.Errorf("after reseal: %s", st.State)
	}

	// Nobody wants the key any more: its files go, with a warning.
	x.p.Publishers = nil
	plan, _ = PlanReseal(x.dir, x.p, x.p.Keys, x.ids, false)
	out.Reset()
	*x.rep = nil
	if err := WriteReseal(x.dir, plan, &out, x.rep); err != nil || out.String() != "removed main_1: no publisher recipients left\n" || len(*x.rep) != 1 {
		t.Errorf("orphaned: %v, told %q\n%s", err, *x.rep, &out)
	}
	if _, err := os.Stat(filepath.Join(x.dir, x.main.SealedFile)); !os.IsNotExist(err) {
		t.Errorf("orphaned sealed file stayed: %v", err)
	}

	// A key that cannot be resealed is a failure, not a write.
	x.p.Publishers = []*policy.Publisher{{Label: "bob", Keys: []string{"main_1"}, Recipients: []string{bob.recipient}}}
	x.main.PrivateKeyPath = ""
	plan, _ = PlanReseal(x.dir, x.p, []*policy.Key{x.main}, nil, false)
	if outOfDate, failed := ReportReseal(new(bytes.Buffer), plan, false, false); !outOfDate || len(failed) != 1 {
		t.Errorf("cannot reseal: %v %v", outOfDate, failed)
	}
}
