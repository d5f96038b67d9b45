package keys

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// viewSeeds are narinfos for the view's tests: the test vectors, the
// content-addressed fixtures, and variants of the golden narinfo that
// take the view's fast path or just miss it.
func viewSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, v := range vectors(t) {
		if v.kind == "narinfo" {
			seeds = append(seeds, []byte(v.in))
		}
	}
	cas, _ := filepath.Glob("testdata/ca/*.narinfo")
	for _, file := range cas {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, text)
	}
	golden := string(goldenNarinfo(t))
	refs := "References: ijhqwypx4s5mfi5378dngz4j2mpa55sj-probe-adep-exp3 vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3 wxwdn70pb7423rjh0ijs79644974a2xh-probe-zdep-exp3"
	for _, r := range []string{
		// Unsorted and repeated references.
		"References: wxwdn70pb7423rjh0ijs79644974a2xh-probe-zdep-exp3 ijhqwypx4s5mfi5378dngz4j2mpa55sj-probe-adep-exp3 wxwdn70pb7423rjh0ijs79644974a2xh-probe-zdep-exp3",
		// Empty tokens, which ParseNarinfo skips.
		"References:  ijhqwypx4s5mfi5378dngz4j2mpa55sj-probe-adep-exp3  vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3 ",
		"References: ",
		"References:",
		"References: ijhqwypx4s5mfi5378dngz4j2mpa55sj-probe/adep",
	} {
		seeds = append(seeds, []byte(strings.Replace(golden, refs, r, 1)))
	}
	for _, r := range [][2]string{
		{"NarSize: 288", "NarSize: 000288"},
		{"NarSize: 288", "NarSize: 18446744073709551615"},
		{"NarSize: 288", "NarSize: 18446744073709551616"},
		{"NarSize: 288", "NarSize: +288"},
		{"NarHash: sha256:15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2", "NarHash: sha256:25fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2"},
		{"NarHash: sha256:15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2", "NarHash: sha256-OKXvAdG9uv0Qux9JXyr2BdsKy+WCZuHx+5ZJg7hWDD0="},
		{"StorePath: /nix/store/", "StorePath: /nix/./store/"},
		{"StorePath: /nix/store/", "StorePath: //"},
		{"Deriver: wfcfrxy4pwm4k85v0pllg9l2lfcnrgnv-probe-exp3.drv", "Deriver: unknown-deriver"},
		{"Deriver: wfcfrxy4pwm4k85v0pllg9l2lfcnrgnv-probe-exp3.drv", "Deriver: unknown-deriver\nDeriver: unknown-deriver"},
		{"Sig: ", "CA: fixed:r:sha256:15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2\nSig: "},
		{"Sig: ", "Sig: other-1:AAAA\nSig: "},
		{"\nSig: ", "\nSig:"},
		{"Compression: none", "Compression:none"},
		{"Compression: none", ": none"},
	} {
		seeds = append(seeds, []byte(strings.Replace(golden, r[0], r[1], 1)))
	}
	seeds = append(seeds, []byte(strings.TrimSuffix(golden, "\n")), []byte(golden+"\n"))
	return seeds
}

// checkView compares the view's parse of in with ParseNarinfo's.
func checkView(t *testing.T, v *NarinfoView, in []byte) {
	t.Helper()
	text := bytes.Clone(in)
	verr := v.Parse(text)
	n, err := ParseNarinfo(in)
	if err != nil || verr != nil {
		if err == nil || verr == nil || err.Error() != verr.Error() {
			t.Fatalf("view: %v\nParseNarinfo: %v", verr, err)
		}
		return
	}
	fp, err := n.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	if string(v.StorePath) != n.StorePath || string(v.CA) != n.CA || string(v.Fingerprint()) != fp {
		t.Fatalf("view: %q %q %q\nNarinfo: %q %q %q", v.StorePath, v.CA, v.Fingerprint(), n.StorePath, n.CA, fp)
	}
	if len(v.Sigs) != len(n.Sigs) {
		t.Fatalf("view has %d Sigs, Narinfo %d", len(v.Sigs), len(n.Sigs))
	}
	for i := range n.Sigs {
		if string(v.Sigs[i]) != n.Sigs[i] {
			t.Fatalf("Sig %d: %q, Narinfo %q", i, v.Sigs[i], n.Sigs[i])
		}
	}
	if !bytes.Equal(text, in) {
		t.Fatal("Parse changed the text")
	}
}

func TestNarinfoView(t *testing.T) {
	var v NarinfoView // reused, as a reader would
	for _, in := range viewSeeds(t) {
		checkView(t, &v, in)
	}
}

// TestNarinfoViewFastPath: the narinfos Nix writes take the in-place
// path; the others fall back to ParseNarinfo.
func TestNarinfoViewFastPath(t *testing.T) {
	golden := goldenNarinfo(t)
	var v NarinfoView
	if !v.parse(golden) {
		t.Fatal("the golden narinfo does not take the fast path")
	}
	if allocs := testing.AllocsPerRun(100, func() {
		if err := v.Parse(golden); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("Parse of the golden narinfo allocates %v times", allocs)
	}
	const nix32 = "15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2"
	sum, err := decodeNix32(nix32, sha256Len)
	if err != nil {
		t.Fatal(err)
	}
	hex := strings.Replace(string(golden), "NarHash: sha256:"+nix32, "NarHash: sha256:"+fmt.Sprintf("%x", sum), 1)
	if v.parse([]byte(hex)) {
		t.Fatal("a hex NarHash takes the fast path, which does not normalise it")
	}
	checkView(t, &v, []byte(hex))
	if !strings.Contains(string(v.Fingerprint()), ";sha256:"+nix32+";") {
		t.Fatalf("fingerprint of the hex narinfo: %s", v.Fingerprint())
	}
}

func FuzzNarinfoView(f *testing.F) {
	for _, s := range viewSeeds(f) {
		f.Add(s)
	}
	var v NarinfoView
	f.Fuzz(func(t *testing.T, in []byte) {
		checkView(t, &v, in)
	})
}

func FuzzDecodeSignature(f *testing.F) {
	addSeeds(f, "signature")
	f.Add("a-1:" + strings.Repeat("A", 86) + "==")
	f.Add("a-1:" + strings.Repeat("A", 86) + "=\n")
	f.Add("a-1:" + strings.Repeat("A", 85) + "\r==")
	f.Fuzz(func(t *testing.T, in string) {
		var sig [64]byte
		ok := DecodeSignature(&sig, []byte(in))
		s, err := ParseSignature(in)
		if ok != (err == nil) {
			t.Fatalf("DecodeSignature %v, ParseSignature %v", ok, err)
		}
		if ok && !bytes.Equal(sig[:], s.Sig) {
			t.Fatalf("DecodeSignature %x, ParseSignature %x", sig, s.Sig)
		}
	})
}

func BenchmarkNarinfoView(b *testing.B) {
	text := goldenNarinfo(b)
	b.Run("ParseNarinfo+Fingerprint", func(b *testing.B) {
		for b.Loop() {
			n, err := ParseNarinfo(text)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := n.Fingerprint(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("NarinfoView", func(b *testing.B) {
		var v NarinfoView
		for b.Loop() {
			if err := v.Parse(text); err != nil {
				b.Fatal(err)
			}
		}
	})
}
