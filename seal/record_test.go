package seal

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/keyform/keyform/policy"
)

// testPolicy has one key published by alice (two recipients) and bob (one,
// the same SSH key as alice's with another comment).
func testPolicy(t testing.TB) (*policy.Policy, []testIdentity) {
	sk := nixKey(t, "cache.example.org-1")
	a1, a2 := ageIdentity(t), sshEd25519Identity(t, "")
	b1 := testIdentity{"bob-ssh", a2.file, strings.TrimSuffix(a2.recipient, "test@host") + "bob@box"}
	k := &policy.Key{Label: "main_1", Name: sk.Name, PublicKey: sk.Public().String(), SealedFile: "sealed/main_1.age", State: policy.Active}
	p := &policy.Policy{
		Keys: []*policy.Key{k},
		Publishers: []*policy.Publisher{
			{Label: "alice", Keys: []string{"main_1"}, Recipients: []string{a1.recipient, a2.recipient}},
			{Label: "bob", Keys: []string{"main_1"}, Recipients: []string{b1.recipient}},
			{Label: "carol", Keys: []string{"other"}, Recipients: []string{ageIdentity(t).recipient}},
		},
	}
	return p, []testIdentity{a1, a2, b1}
}

func TestWant(t *testing.T) {
	p, ids := testPolicy(t)
	got := Want(p, p.Keys[0])
	want := []Entry{{Publishers: []string{"alice"}, Recipient: ids[0].recipient}, {Publishers: []string{"alice", "bob"}, Recipient: ids[1].recipient}}
	sortEntries(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Want = %+v\nwant %+v", got, want)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	p, _ := testPolicy(t)
	k := p.Keys[0]
	r := &Record{Key: k.Label, PublicKey: k.PublicKey, SHA256: Hash([]byte("x")), Entries: Want(p, k)}
	text := r.Marshal()
	got, err := ParseRecord(text)
	if err != nil {
		t.Fatalf("ParseRecord: %v\n%s", err, text)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip:\n%+v\n%+v", got, r)
	}
	if !bytes.Equal(got.Marshal(), text) {
		t.Fatal("Marshal is not stable")
	}
	if !strings.Contains(string(text), "recipient alice,bob ssh-ed25519 ") {
		t.Fatalf("record does not name the publishers:\n%s", text)
	}
}

func TestParseRecordErrors(t *testing.T) {
	p, _ := testPolicy(t)
	k := p.Keys[0]
	good := string((&Record{Key: k.Label, PublicKey: k.PublicKey, SHA256: Hash(nil), Entries: Want(p, k)}).Marshal())
	line := func(prefix string) string {
		for _, l := range strings.Split(good, "\n") {
			if strings.HasPrefix(l, prefix) {
				return l + "\n"
			}
		}
		t.Fatalf("no %q line", prefix)
		return ""
	}
	tests := []struct{ name, text, want string }{
		{"no key", strings.Replace(good, line("key "), "", 1), "no key line"},
		{"no recipients", strings.ReplaceAll(good, "recipient ", "# "), "no recipient lines"},
		{"twice", good + line("key "), "key given twice"},
		{"bad hash", strings.Replace(good, "sealed-sha256 ", "sealed-sha256 XX", 1), "not 64 lower-case hex digits"},
		{"bad public key", strings.Replace(good, "public-key ", "public-key bad:", 1), "line 5: public key"},
		{"bad recipient", good + "recipient alice age1nope\n", "not a valid age recipient"},
		{"bad publisher", good + "recipient al.ice age1nope\n", "invalid publisher label"},
		{"unknown", good + "extra 1\n", "unknown field \"extra\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRecord([]byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseRecord error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	p, ids := testPolicy(t)
	k := p.Keys[0]
	sk := nixKey(t, k.Name) // stands in for the real secret; Check decrypts nothing
	var sealed bytes.Buffer
	if err := Seal(&sealed, sk, Recipients(Want(p, k))); err != nil {
		t.Fatal(err)
	}
	record := func(entries []Entry, sealed []byte, pub string) []byte {
		return (&Record{Key: k.Label, PublicKey: pub, SHA256: Hash(sealed), Entries: entries}).Marshal()
	}
	files := func(sealedData, recordData []byte) fstest.MapFS {
		m := fstest.MapFS{}
		if sealedData != nil {
			m["sealed/main_1.age"] = &fstest.MapFile{Data: sealedData}
		}
		if recordData != nil {
			m["sealed/main_1.recipients"] = &fstest.MapFile{Data: recordData}
		}
		return m
	}
	want := Want(p, k)
	onlyAlice := []Entry{{Publishers: []string{"alice"}, Recipient: ids[0].recipient}}
	withDave := append(append([]Entry{}, want...), Entry{Publishers: []string{"dave"}, Recipient: ageIdentity(t).recipient})
	s := sealed.Bytes()
	tests := []struct {
		name             string
		fs               fstest.MapFS
		state            State
		added, removed   int
		rotate           bool
		reasonSubstrings []string
		change           string
	}{
		{"current", files(s, record(want, s, k.PublicKey)), Current, 0, 0, false, nil, ""},
		{"missing", files(nil, nil), Missing, 2, 0, false, nil, "never sealed"},
		{"publisher added", files(s, record(onlyAlice, s, k.PublicKey)), Stale, 1, 0, false, []string{"recipients differ"}, "added bob; new recipients for alice"},
		{"publisher removed", files(s, record(withDave, s, k.PublicKey)), Stale, 0, 1, true, []string{"recipients differ"}, "removed dave"},
		{"sealed file edited", files(append(s, '\n'), record(want, s, k.PublicKey)), Stale, 0, 0, false, []string{"changed since its record was written"}, "sealed/main_1.age changed since its record was written"},
		{"record missing", files(s, nil), Stale, 2, 0, false, []string{"sealed/main_1.recipients is missing"}, ""},
		{"sealed missing", files(nil, record(want, s, k.PublicKey)), Stale, 0, 0, false, []string{"sealed/main_1.age is missing"}, ""},
		{"record corrupt", files(s, []byte("junk\n")), Stale, 2, 0, false, []string{"does not parse"}, ""},
		{"key replaced", files(s, record(want, s, nixKey(t, k.Name).Public().String())), Stale, 0, 0, false, []string{"was sealed for public key"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Check(tt.fs, p, k)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != tt.state || len(st.Added) != tt.added || len(st.Removed) != tt.removed || st.NeedsRotation() != tt.rotate {
				t.Fatalf("Check = %s +%d -%d rotate=%v %q; want %s +%d -%d rotate=%v", st.State, len(st.Added), len(st.Removed), st.NeedsRotation(), st.Reasons, tt.state, tt.added, tt.removed, tt.rotate)
			}
			if tt.change != "" && st.Change() != tt.change {
				t.Errorf("Change() = %q, want %q", st.Change(), tt.change)
			}
			for _, sub := range tt.reasonSubstrings {
				if !strings.Contains(strings.Join(st.Reasons, "; "), sub) {
					t.Errorf("reasons %q lack %q", st.Reasons, sub)
				}
			}
		})
	}

	// Nobody wants the key any more: orphaned, and whoever had it must be
	// rotated out.
	p.Publishers = nil
	st, err := Check(files(s, record(want, s, k.PublicKey)), p, k)
	if err != nil || st.State != Orphaned || !st.NeedsRotation() || len(st.Removed) != 2 {
		t.Fatalf("orphaned: %+v, %v", st, err)
	}
	st, err = Check(files(nil, nil), p, k)
	if err != nil || st.State != Unsealed {
		t.Fatalf("unsealed: %+v, %v", st, err)
	}
}
