package redact

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update

	"github.com/keyform/keyform/keys"
)

func seeded(n uint64) *mrand.ChaCha8 {
	var seed [32]byte
	seed[0], seed[1] = byte(n), byte(n>>8)
	return mrand.NewChaCha8(seed)
}

// secret returns a Nix secret key's text and its base64 part.
func secret(t testing.TB, name string, n uint64) (text, b64 string) {
	t.Helper()
	sk, err := keys.Generate(name, seeded(n))
	if err != nil {
		t.Fatal(err)
	}
	text = string(sk.Encode())
	_, b64, _ = strings.Cut(text, ":")
	return text, b64
}

// leaks reports a 16-character run of secret found in out.
func leaks(out, secret string) string {
	secret = strings.TrimRight(secret, "=")
	for i := 0; i+16 <= len(secret); i++ {
		if strings.Contains(out, secret[i:i+16]) {
			return secret[i : i+16]
		}
	}
	return ""
}

func TestFindsSecrets(t *testing.T) {
	text, b64 := secret(t, "cache.example.org-1", 1)
	split := func(n int, sep string) string { return `"cache.example.org-1:` + b64[:n] + sep + b64[n:] + `"` }
	ageID, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, in string
		kind     Kind
		// secret is what must not show; b64 unless set.
		secret string
	}{
		{"whole", text, SecretKey, ""},
		{"in an attribute", `public_key = "` + text + `"`, SecretKey, ""},
		{"in JSON", `{"public_key":"` + text + `"}`, SecretKey, ""},
		{"after a space", "trusted-public-keys = a:b " + text + "\n", SecretKey, ""},
		{"without padding", strings.TrimRight(text, "="), SecretKey, ""},
		{"no name", `public_key = ":` + b64 + `"`, SecretKey, ""},
		{"bare", `public_key = "` + b64 + `"`, SecretKey, ""},
		{"truncated to 44", "cache.example.org-1:" + b64[:44], TruncatedSecretKey, b64[:44]},
		{"truncated to 44 with padding", "cache.example.org-1:" + b64[:44] + "==", TruncatedSecretKey, b64[:44]},
		{"truncated to 64", `"cache.example.org-1:` + b64[:64] + `"`, TruncatedSecretKey, b64[:64]},
		{"truncated to 84", "cache.example.org-1:" + b64[:84], TruncatedSecretKey, b64[:84]},
		{"split by a newline", split(20, "\n"), SecretKey, ""},
		{"split by CRLF", split(60, "\r\n"), SecretKey, ""},
		{"split and indented", split(40, "\n    "), SecretKey, ""},
		{"split by a \\n escape", split(10, `\n`), SecretKey, ""},
		{"split twice", `'cache.example.org-1:` + b64[:10] + "\n" + b64[10:30] + "\n" + b64[30:] + `'`, SecretKey, ""},
		{"truncated and split", `"cache.example.org-1:` + b64[:20] + "\n" + b64[20:50] + `"`, TruncatedSecretKey, b64[:50]},
		{"age identity", "recipients = [\"" + ageID.String() + "\"]", AgeIdentity, strings.TrimPrefix(ageID.String(), "AGE-SECRET-KEY-1")},
		{"URL password", `substituter = "https://alice:s3cretPassw0rd-longer@cache.example.org/"`, URLCredentials, "alice:s3cretPassw0rd-longer"},
		{"URL token", `https://ghp_0123456789abcdefABCDEF@cache.example.org`, URLCredentials, "ghp_0123456789abcdefABCDEF"},
		{"ssh URL password", `ssh://nix:hunter2-hunter2-hunter2@builder`, URLCredentials, "nix:hunter2-hunter2-hunter2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := c.secret
			if want == "" {
				want = b64
			}
			fs := Find([]byte(c.in))
			if len(fs) != 1 || fs[0].Kind != c.kind {
				t.Fatalf("Find = %+v, want one %v", fs, c.kind)
			}
			out := String(c.in)
			if l := leaks(out, want); l != "" || !strings.Contains(out, "redacted>") {
				t.Errorf("String leaks %q:\n%s", l, out)
			}
			masked := []byte(c.in)
			Mask(masked)
			if len(masked) != len(c.in) || bytes.Count(masked, []byte("\n")) != strings.Count(c.in, "\n") {
				t.Errorf("Mask changed the length or the lines:\n%q\n%q", c.in, masked)
			}
			if l := leaks(string(masked), want); l != "" {
				t.Errorf("Mask leaks %q: %s", l, masked)
			}
		})
	}
}

func TestFindingPosition(t *testing.T) {
	text, b64 := secret(t, "k", 2)
	in := "line 1\nline 2\n  public_key = \"" + text + "\"\n"
	fs := Find([]byte(in))
	if len(fs) != 1 {
		t.Fatalf("findings %+v", fs)
	}
	f := fs[0]
	if f.Line != 3 || f.Name != "k" || in[f.Start:f.End] != b64 {
		t.Errorf("finding %+v covers %q, want line 3, name k, the base64", f, in[f.Start:f.End])
	}
	if got := String(in); got != "line 1\nline 2\n  public_key = \"k:"+Marker+"\"\n" {
		t.Errorf("String = %q", got)
	}
}

// Output keyform prints legitimately must pass untouched.
func TestKeepsPublicText(t *testing.T) {
	sk, err := keys.Generate("cache.example.org-1", seeded(3))
	if err != nil {
		t.Fatal(err)
	}
	pub := sk.Public()
	sig := sk.Sign([]byte("1;/nix/store/x;sha256:y;1;")).String()
	ageID, _ := age.GenerateX25519Identity()
	var armored bytes.Buffer
	aw := armor.NewWriter(&armored)
	ew, _ := age.Encrypt(aw, ageID.Recipient())
	ew.Write(sk.Encode())
	ew.Close()
	aw.Close()
	narinfo, err := os.ReadFile("../../keys/testdata/nix28-probe.narinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		pub.String(),
		"trusted-public-keys = cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY= " + pub.String(),
		`{"fingerprint":"` + pub.Fingerprint() + `","public_key":"` + pub.String() + `"}`,
		"Sig: " + sig,
		string(narinfo),
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBVo0dn3h3jy0dKb7jzIVAVXfd2Ns8p4y1BJnnN3kJpQ alice@laptop",
		"recipient alice " + ageID.Recipient().String(),
		"age1pq1" + strings.Repeat("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 30),
		armored.String(),
		"/nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3",
		"file:///nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3/share/doc/SomethingLongWithoutDots",
		"https://cache.example.org/SomeLongPathSegmentWithoutAnyDotsAtAllInIt/AndMore?priority=40",
		"s3://nix-cache?region=eu-west-1&endpoint=minio.example.org",
		"ssh://nix-ssh@builder.example.org ssh-ng://builder@10.0.0.1",
		"NarHash: sha256:15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2",
		"sha256:10551daed7fa467d0b58826e7eb9a0f2af7d693de319f2ef775fffcda244b9f6",
		"sha512:" + strings.Repeat("0123456789abcdef", 8),
		"sha256-EFUdrtf6Rn0LWIJufrmg8q99aT3jGfLvd1//zaJEufY=",
		fmt.Sprint(sk), fmt.Sprintf("%#v %q", sk, sk),
		"keyform.hcl:6:16: Error: Secret key where a public key belongs",
		"2026-11-25T10:11:12Z fe80::1 [::1]:8080 C:\\Users",
	} {
		if fs := Find([]byte(in)); len(fs) != 0 {
			t.Errorf("Find(%q) = %+v, want nothing", in, fs)
		}
		if got := String(in); got != in {
			t.Errorf("String changed %q to %q", in, got)
		}
	}
}

// Over many keys: every secret and every prefix of 44 or more characters is
// found, and no public key, fingerprint or signature is.
func TestManyKeys(t *testing.T) {
	for n := range uint64(300) {
		text, b64 := secret(t, "cache-"+fmt.Sprint(n), 100+n)
		name, _, _ := strings.Cut(text, ":")
		for cut := 44; cut <= len(b64); cut++ {
			in := "x " + name + ":" + b64[:cut] + " y"
			if fs := Find([]byte(in)); len(fs) != 1 {
				t.Fatalf("key %d cut at %d: %+v", n, cut, fs)
			}
		}
		for _, split := range []int{1, 20, 43, 60, 85} {
			in := `"` + name + ":" + b64[:split] + "\n" + b64[split:] + `"`
			if l := leaks(String(in), b64); l != "" {
				t.Fatalf("key %d split at %d leaks %q", n, split, l)
			}
		}
		if l := leaks(String(b64), b64); l != "" {
			t.Fatalf("bare key %d leaks", n)
		}
		sk, _ := keys.ParseSecretKey(text)
		pub := sk.Public()
		sig := sk.Sign([]byte(text)).String()
		for _, in := range []string{pub.String(), pub.Fingerprint(), "Sig: " + sig, strings.TrimRight(pub.String(), "=")} {
			if fs := Find([]byte(in)); len(fs) != 0 {
				t.Fatalf("key %d: %q found as %v", n, in, fs[0].Kind)
			}
		}
	}
}

func TestClassifyKeyText(t *testing.T) {
	text, b64 := secret(t, "k", 4)
	_, pub, _ := strings.Cut(func() string { sk, _ := keys.ParseSecretKey(text); return sk.Public().String() }(), ":")
	for in, want := range map[string]Kind{
		text:                                     SecretKey,
		b64:                                      SecretKey,
		"k:" + b64[:50]:                          TruncatedSecretKey,
		b64[:44]:                                 TruncatedSecretKey,
		"k:" + b64[:30] + "\n" + b64[30:] + "\n": SecretKey,
		"k:" + pub:                               0,
		pub:                                      0,
		"k:" + b64[:43]:                          0,
		"k:AAAA":                                 0,
		"not a key at all, but a longer sentence with words": 0,
	} {
		if got := ClassifyKeyText(in); got != want {
			t.Errorf("ClassifyKeyText(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestPrivateKeyBlock(t *testing.T) {
	body := "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBVaNHZ94d48tHSm+48yFQFV33djbPKeMtQSZ5zd5CaUAAAAJgAAAAAAAAA\n"
	in := "x\n-----BEGIN OPENSSH PRIVATE KEY-----\n" + body + "-----END OPENSSH PRIVATE KEY-----\ny\n"
	out := String(in)
	if strings.Contains(out, "b3BlbnNzaC1rZXkt") || !strings.Contains(out, "-----END OPENSSH PRIVATE KEY-----") {
		t.Errorf("String = %q", out)
	}
	// Without its end, the rest of the text is the key.
	if out := String("-----BEGIN PRIVATE KEY-----\n" + body); strings.Contains(out, "b3BlbnNzaC1rZXkt") {
		t.Errorf("unterminated block: %q", out)
	}
}

// What is written through a Writer, however it is cut, comes out as String
// of the whole.
func TestWriter(t *testing.T) {
	text, b64 := secret(t, "cache.example.org-1", 5)
	in := "keyform.hcl:6:16: Error: bad\n  public_key = \"" + text + "\"\n" +
		"split = \"cache.example.org-1:" + b64[:30] + "\n   " + b64[30:] + "\"\n" +
		"trailing " + text
	want := String(in)
	if leaks(want, b64) != "" {
		t.Fatalf("String leaks: %s", want)
	}
	r := mrand.New(seeded(9))
	for range 500 {
		var out bytes.Buffer
		w := NewWriter(&out)
		for rest := in; rest != ""; {
			n := min(len(rest), 1+r.IntN(40))
			if m, err := w.Write([]byte(rest[:n])); m != n || err != nil {
				t.Fatalf("Write = %d, %v", m, err)
			}
			rest = rest[n:]
		}
		if l := leaks(out.String(), b64); l != "" {
			t.Fatalf("before Flush, the output leaks %q:\n%s", l, out.String())
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("Writer wrote\n%q\nwant\n%q", out.String(), want)
		}
	}
}

// Lines without secrets go out as they are written, not at Flush.
func TestWriterStreamsLines(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	w.Write([]byte("first line\nsecond "))
	if out.String() != "first line\n" {
		t.Errorf("after one line: %q", out.String())
	}
	// A text without line breaks is written once it exceeds maxHeld.
	w.Write(bytes.Repeat([]byte("x"), maxHeld+1))
	if out.Len() < maxHeld {
		t.Errorf("held %d bytes", len(w.buf))
	}
	w.Flush()
	if out.Len() != len("first line\nsecond ")+maxHeld+1 {
		t.Errorf("wrote %d bytes", out.Len())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWriterError(t *testing.T) {
	w := NewWriter(failWriter{})
	if _, err := w.Write([]byte("a line\n")); err == nil {
		t.Error("Write hid the error")
	}
	if err := w.Flush(); err == nil {
		t.Error("Flush hid the error")
	}
}

func FuzzFind(f *testing.F) {
	text, b64 := secret(f, "k", 6)
	f.Add([]byte(text))
	f.Add([]byte(`"k:` + b64[:20] + "\n" + b64[20:] + `"`))
	f.Add([]byte("https://u:p@h/ -----BEGIN PRIVATE KEY-----\nAAAA"))
	f.Add([]byte("AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQ"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs := Find(b)
		last := 0
		for _, f := range fs {
			if f.Start < last || f.End < f.Start || f.End > len(b) || f.Line < 1 {
				t.Fatalf("bad finding %+v (after %d) in %d bytes", f, last, len(b))
			}
			last = f.End
		}
		m := bytes.Clone(b)
		Mask(m)
		if len(m) != len(b) || bytes.Count(m, []byte("\n")) != bytes.Count(b, []byte("\n")) {
			t.Fatal("Mask changed lengths or lines")
		}
		// Masking is idempotent: what is found again is only asterisks.
		for _, f := range Find(m) {
			if strings.Trim(string(m[f.Start:f.End]), "* \t\r\n\\") != "" {
				t.Fatalf("masked text still has %v %q", f.Kind, m[f.Start:f.End])
			}
		}
		var out bytes.Buffer
		w := NewWriter(&out)
		for i := 0; i < len(b); i += 7 {
			w.Write(b[i:min(i+7, len(b))])
		}
		w.Flush()
		if want := Bytes(b); !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("Writer wrote %q, String %q", out.Bytes(), want)
		}
	})
}

// The bare-key rule needs seed || public key; confirm the helper agrees
// with crypto/ed25519 on a key made without keys.
func TestIsSecretPair(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(seeded(7))
	if !isSecretPair([]byte(base64.RawStdEncoding.EncodeToString(priv))) {
		t.Error("seed || public key not recognised")
	}
	priv[40] ^= 1
	if isSecretPair([]byte(base64.RawStdEncoding.EncodeToString(priv))) {
		t.Error("a mismatched pair recognised")
	}
}

// BenchmarkWriter passes rendered output (public keys, URLs, comments)
// through a Writer line by line, as the keyform command would.
func BenchmarkWriter(b *testing.B) {
	var in bytes.Buffer
	for i := range 10000 {
		sk, _ := keys.Generate(fmt.Sprintf("cache%d.example.org-1", i), seeded(uint64(i)))
		fmt.Fprintf(&in, "    %q # key k%d (catalog c%d) https://cache%d.example.org\n", sk.Public().String(), i, i%10, i)
	}
	lines := bytes.SplitAfter(in.Bytes(), []byte("\n"))
	b.SetBytes(int64(in.Len()))
	for b.Loop() {
		w := NewWriter(io.Discard)
		for _, l := range lines {
			w.Write(l)
		}
		w.Flush()
	}
}
