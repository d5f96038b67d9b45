package resign

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
)

func TestWriteText(t *testing.T) {
	r := &Result{Paths: 10, Signed: 6, AlreadySigned: 2, Malformed: 3, MalformedExamples: []Problem{{"a.narinfo", "no StorePath"}, {"b.narinfo", "too large"}}}
	var b bytes.Buffer
	WriteText(&b, "file:///srv/cache", "acme-2", r)
	want := "resigned file:///srv/cache with acme-2: 10 narinfos, 6 signed, 2 already signed, 3 malformed\n" +
		"  a.narinfo: no StorePath\n  b.narinfo: too large\n  ... and 1 more\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := r.Err(); err == nil || err.Error() != "3 malformed narinfos left unsigned" {
		t.Errorf("Err = %v", err)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if note := r.CacheNote(now); !strings.Contains(note, "for up to 30 days") || !strings.Contains(note, "on or after 2026-12-31") {
		t.Errorf("note %q", note)
	}

	r = &Result{Paths: 10, Signed: 6, Malformed: 1, DryRun: true}
	b.Reset()
	WriteText(&b, "file:///srv/cache", "acme-2", r)
	if want := "would sign 6 of 10 narinfos in file:///srv/cache with acme-2 (0 already signed, 1 malformed)\n  ... and 1 more\n"; b.String() != want {
		t.Errorf("dry run:\n%s", b.String())
	}
	if r.CacheNote(now) != "" || r.Err().Error() != "1 malformed narinfo left unsigned" {
		t.Errorf("dry run: note %q, err %v", r.CacheNote(now), r.Err())
	}
	if (&Result{Paths: 3, AlreadySigned: 3}).Err() != nil || (&Result{AlreadySigned: 3}).CacheNote(now) != "" {
		t.Error("nothing to do")
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, "file:///srv/cache", "acme-2", &Result{Paths: 2, Signed: 1, AlreadySigned: 1}); err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 1,
  "store": "file:///srv/cache",
  "key": "acme-2",
  "paths": 2,
  "signed": 1,
  "already_signed": 1,
  "malformed": 0,
  "malformed_examples": null,
  "dry_run": false
}
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestSigningKeyAndStore(t *testing.T) {
	p := &policy.Policy{
		Catalogs: []*policy.Catalog{{Label: "acme", Substituters: []string{"file:///srv/acme"}}, {Label: "bare"}, {Label: "two", Substituters: []string{"https://a", "https://b"}}},
		Keys: []*policy.Key{
			{Label: "acme_1", Name: "acme-1", Catalog: "acme", PublicKey: "acme-1:x", State: policy.Retired},
			{Label: "acme_2", Name: "acme-2", Catalog: "acme", PublicKey: "acme-2:x", State: policy.Active},
			{Label: "bare_1", Name: "bare-1", Catalog: "bare", PublicKey: "bare-1:x", State: policy.Active},
			{Label: "two_1", Name: "two-1", Catalog: "two", PublicKey: "two-1:x", State: policy.Active},
		},
	}
	if k, err := SigningKey(p, "acme_2"); err != nil || k.Label != "acme_2" {
		t.Errorf("active: %v %v", k, err)
	}
	_, err := SigningKey(p, "acme_1")
	if err == nil || err.Error() != "key acme_1 is retired: resign with its successor" || !strings.Contains(hint.Of(err), "keyform resign acme_2") {
		t.Errorf("retired: %v", err)
	}
	for label, want := range map[string]string{
		"acme_2": "file:///srv/acme",
		"bare_1": "error: catalog bare has no substituter to sign",
		"two_1":  "error: catalog two has 2 substituters",
	} {
		got, err := StoreOf(p, p.Key(label), "")
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != want {
			t.Errorf("%s: %s, want %s", label, got, want)
		}
	}
	if got, err := StoreOf(p, p.Key("two_1"), "file:///x"); got != "file:///x" || err != nil {
		t.Errorf("--store: %s %v", got, err)
	}
}

// TestWriteFormat: Write picks the format resign --format names.
func TestWriteFormat(t *testing.T) {
	r := &Result{Paths: 1, Signed: 1}
	var text, js, want bytes.Buffer
	WriteText(&want, "file:///c", "k", r)
	if err := Write(&text, "text", "file:///c", "k", r); err != nil || text.String() != want.String() {
		t.Errorf("text: %q, %v", text.String(), err)
	}
	if err := Write(&js, "json", "file:///c", "k", r); err != nil || !strings.HasPrefix(js.String(), "{\n  \"version\": 1,") {
		t.Errorf("json: %q, %v", js.String(), err)
	}
}
