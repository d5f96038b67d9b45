package keys

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func addSeeds(f *testing.F, kind string) {
	for _, v := range vectors(f) {
		if v.kind == kind {
			f.Add(v.in)
		}
	}
}

// leakCandidate reports whether w looks like key material rather than
// fixed message text: only base64 characters, with a digit, an upper- and
// a lower-case letter.
func leakCandidate(w string) bool {
	var digit, upper, lower bool
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case '0' <= c && c <= '9':
			digit = true
		case 'A' <= c && c <= 'Z':
			upper = true
		case 'a' <= c && c <= 'z':
			lower = true
		case c == '+' || c == '/' || c == '=':
		default:
			return false
		}
	}
	return digit && upper && lower
}

func checkNoEcho(t *testing.T, in string, err error) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error spans lines: %q", msg)
	}
	name, keyPart, ok := strings.Cut(in, ":")
	if !ok {
		keyPart, name = in, ""
	}
	for w := 0; w+8 <= len(keyPart); w++ {
		win := keyPart[w : w+8]
		if leakCandidate(win) && !strings.Contains(name, win) && strings.Contains(msg, win) {
			t.Fatalf("error echoes key material %q: %s", win, msg)
		}
	}
}

func FuzzParseSecretKey(f *testing.F) {
	addSeeds(f, "secret")
	sk, _ := Generate("fuzz-seed", rand.Reader)
	f.Add(string(sk.Encode()))
	f.Fuzz(func(t *testing.T, in string) {
		sk, err := ParseSecretKey(in)
		if err != nil {
			checkNoEcho(t, in, err)
			return
		}
		enc := string(sk.Encode())
		if enc != strings.TrimSuffix(in, "\n") {
			t.Fatalf("Encode = %q, input %q", enc, in)
		}
		sk2, err := ParseSecretKey(enc)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", enc, err)
		}
		if !bytes.Equal(sk2.Encode(), sk.Encode()) || !sk2.Public().Equal(sk.Public()) {
			t.Fatal("round trip changed the key")
		}
		msg := []byte(in)
		if !sk.Public().Verify(msg, sk.Sign(msg)) {
			t.Fatal("signature does not verify")
		}
		if strings.Contains(sk.String()+sk.GoString(), enc[strings.IndexByte(enc, ':')+1:]) {
			t.Fatal("String reveals the key")
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	addSeeds(f, "public")
	f.Fuzz(func(t *testing.T, in string) {
		pk, err := ParsePublicKey(in)
		if err != nil {
			checkNoEcho(t, in, err)
			return
		}
		if pk.String() != strings.TrimSuffix(in, "\n") {
			t.Fatalf("String = %q, input %q", pk.String(), in)
		}
		pk2, err := ParsePublicKey(pk.String())
		if err != nil || !pk2.Equal(pk) || pk2.Fingerprint() != pk.Fingerprint() {
			t.Fatalf("round trip: %v %v", pk2, err)
		}
	})
}

func FuzzParseSignature(f *testing.F) {
	addSeeds(f, "signature")
	f.Fuzz(func(t *testing.T, in string) {
		sig, err := ParseSignature(in)
		if err != nil {
			return
		}
		if sig.String() != in {
			t.Fatalf("String = %q, input %q", sig.String(), in)
		}
		sig2, err := ParseSignature(sig.String())
		if err != nil || !reflect.DeepEqual(sig, sig2) {
			t.Fatalf("round trip: %v %v", sig2, err)
		}
	})
}

func FuzzParseNarinfo(f *testing.F) {
	for _, v := range vectors(f) {
		if v.kind == "narinfo" {
			f.Add([]byte(v.in))
		}
	}
	cas, _ := filepath.Glob("testdata/ca/*.narinfo")
	for _, file := range cas {
		text, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(text)
	}
	pk, err := ParsePublicKey(nixPublic)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		n, err := ParseNarinfo(in)
		if err != nil {
			return
		}
		if ok, err := n.ContentAddressed(); ok && err != nil {
			t.Fatalf("ContentAddressed = true with error %v", err)
		}
		fp, err := n.Fingerprint()
		if err != nil {
			t.Fatalf("parsed narinfo has no fingerprint: %v", err)
		}
		if !strings.HasPrefix(fp, "1;"+n.StorePath+";"+n.NarHash+";") {
			t.Fatalf("fingerprint %q", fp)
		}
		_, _ = pk.VerifyNarinfo(n)
		enc := n.encode()
		n2, err := ParseNarinfo(enc)
		if err != nil {
			t.Fatalf("re-parse of\n%s: %v", enc, err)
		}
		if !reflect.DeepEqual(n, n2) {
			t.Fatalf("round trip:\n%#v\n%#v", n, n2)
		}
		if !bytes.Equal(n2.encode(), enc) {
			t.Fatal("encode is not stable")
		}
	})
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := Generate("bench-1", rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyNarinfo(b *testing.B) {
	n, err := ParseNarinfo(goldenNarinfo(b))
	if err != nil {
		b.Fatal(err)
	}
	pk, err := ParsePublicKey(nixPublic)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := pk.VerifyNarinfo(n); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkParseNarinfo(b *testing.B) {
	text := goldenNarinfo(b)
	for b.Loop() {
		if _, err := ParseNarinfo(text); err != nil {
			b.Fatal(err)
		}
	}
}
