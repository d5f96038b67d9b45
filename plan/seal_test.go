package plan

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/seal"
)

func TestSealNotes(t *testing.T) {
	k := &policy.Key{Label: "main_1", Name: "cache.example.org-1", PublicKey: "cache.example.org-1:YD4aoux9KZCdnsMKced3iFsxDijjzuEsQ39hCzbWj4Q=", SealedFile: "sealed/main_1.age"}
	p := &policy.Policy{Keys: []*policy.Key{k}, Publishers: []*policy.Publisher{
		{Label: "alice", Keys: []string{"main_1"}, Recipients: []string{"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"}},
	}}
	notes, err := SealNotes(fstest.MapFS{}, p)
	if err != nil || len(notes) != 1 {
		t.Fatalf("SealNotes = %v, %v; want one note for the unsealed key", notes, err)
	}
	n := notes[0]
	if n.Level != Warning || n.Code != "reseal_needed" || n.Subject != "key.main_1" ||
		!strings.HasPrefix(n.Message, "the sealed private key is missing (never sealed): run keyform reseal main_1") {
		t.Errorf("note = %+v", n)
	}
	// A sealed file that is not the one its record was written for is a
	// danger, however current the recipients look.
	sealed := []byte("-----BEGIN AGE ENCRYPTED FILE-----\nswapped\n-----END AGE ENCRYPTED FILE-----\n")
	rec := &seal.Record{Key: k.Label, PublicKey: k.PublicKey, SHA256: seal.Hash([]byte("the original")), Entries: seal.Want(p, k)}
	fsys := fstest.MapFS{"sealed/main_1.age": {Data: sealed}, "sealed/main_1.recipients": {Data: rec.Marshal()}}
	notes, err = SealNotes(fsys, p)
	if err != nil || len(notes) != 1 || notes[0].Level != Danger || notes[0].Code != "sealed_file_modified" ||
		!strings.HasPrefix(notes[0].Message, "sealed/main_1.age is not the file its record sealed/main_1.recipients was written for") {
		t.Fatalf("SealNotes for a swapped sealed file = %+v, %v", notes, err)
	}
	rec.SHA256 = seal.Hash(sealed)
	fsys["sealed/main_1.recipients"] = &fstest.MapFile{Data: rec.Marshal()}
	if notes, err := SealNotes(fsys, p); err != nil || len(notes) != 0 {
		t.Errorf("SealNotes for a current sealed file = %+v, %v", notes, err)
	}
	// No publisher wants the key: nothing to say while nothing is sealed.
	p.Publishers = nil
	if notes, err := SealNotes(fstest.MapFS{}, p); err != nil || len(notes) != 0 {
		t.Errorf("SealNotes without publishers = %v, %v", notes, err)
	}
}
