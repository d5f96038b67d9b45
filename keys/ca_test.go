package keys

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/ca holds narinfos that Nix 2.8 wrote (nix copy --to file://)
// for content-addressed paths: nix-store --add-fixed sha256 and sha1
// (flat), --add-fixed --recursive sha256, and two builtins.toFile text
// paths, one referring to the other.
func TestContentAddressedNix(t *testing.T) {
	files, _ := filepath.Glob("testdata/ca/*.narinfo")
	if len(files) != 5 {
		t.Fatalf("%d narinfos in testdata/ca, want 5", len(files))
	}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n, err := ParseNarinfo(text)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := n.ContentAddressed(); !ok || err != nil {
			t.Errorf("%s (CA %s): ContentAddressed = %v, %v", n.StorePath, n.CA, ok, err)
		}
		// Any change to the address, the name or the references breaks it.
		for _, tamper := range []func(m *Narinfo){
			func(m *Narinfo) { m.CA = m.CA[:len(m.CA)-1] + "0" },
			func(m *Narinfo) { m.StorePath += "x" },
			func(m *Narinfo) {
				m.References = append(m.References, "00000000000000000000000000000000-x")
			},
		} {
			m := *n
			m.References = append([]string(nil), n.References...)
			tamper(&m)
			if ok, _ := m.ContentAddressed(); ok {
				t.Errorf("%s: tampered narinfo (CA %s, path %s, refs %v) still content-addressed", n.StorePath, m.CA, m.StorePath, m.References)
			}
		}
	}
}

func TestContentAddressedErrors(t *testing.T) {
	n, _ := ParseNarinfo(goldenNarinfo(t))
	if ok, err := n.ContentAddressed(); ok || err != nil {
		t.Fatalf("no CA field: %v %v", ok, err)
	}
	for _, ca := range []string{"nar:sha256:x", "fixed:sha3:abc", "text:sha1:iwjz551fyw0cxcjgf4l6c879zabd6wpm", "fixed:sha256:zz", "fixed:sha256:" + strings.Repeat("e", 52)} {
		m := *n
		m.CA = ca
		if ok, err := m.ContentAddressed(); ok || err == nil {
			t.Errorf("CA %q: %v %v, want an error", ca, ok, err)
		}
	}
}
