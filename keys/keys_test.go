package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strings"
	"testing"
	"unicode"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

// Golden data made by real Nix 2.8.0; see testdata/README.md. nixSecret is a
// throwaway test vector that signs nothing real; test secrets are otherwise
// generated at test time.
const (
	nixSecret = "test1:VomXBYNnOd4w13BU4zvQQZjUB7DsitbU2cMLP6a8F39qEgm1DYP+5z3dmEDITG2Om0G2nuLkijY/WBHF+duVuQ=="
	nixPublic = "test1:ahIJtQ2D/uc93ZhAyExtjptBtp7i5Io2P1gRxfnblbk="
	nixSig    = "test1:pW5aaao6lHeYNgO2njhvNkeWE3/e7vjguuKBiRF51S+fQNlavOpBSKLP+IZDGc1hqkEWd2jkfakY+IiGm+HmBQ=="
	nixFP     = "1;/nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3;" +
		"sha256:15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2;288;" +
		"/nix/store/ijhqwypx4s5mfi5378dngz4j2mpa55sj-probe-adep-exp3," +
		"/nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3," +
		"/nix/store/wxwdn70pb7423rjh0ijs79644974a2xh-probe-zdep-exp3"
	// nix hash to-base32 / to-base16 / to-sri of one hash.
	hashNix32 = "sha256:1xmr8jicvzszfzpz46g37mlpvbzjl2wpwvl2b05psipssyp1sm8h"
	hashHex   = "sha256:10551daed7fa467d0b58826e7eb9a0f2af7d693de319f2ef775fffcda244b9f6"
	hashSRI   = "sha256-EFUdrtf6Rn0LWIJufrmg8q99aT3jGfLvd1//zaJEufY="
	hashB64   = "sha256:EFUdrtf6Rn0LWIJufrmg8q99aT3jGfLvd1//zaJEufY="
)

func goldenNarinfo(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/nix28-probe.narinfo")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seeded returns a deterministic reader for key generation in tests.
func seeded(n byte) *mrand.ChaCha8 {
	var seed [32]byte
	seed[0] = n
	return mrand.NewChaCha8(seed)
}

func mustGenerate(t testing.TB, name string, n byte) *SecretKey {
	t.Helper()
	sk, err := Generate(name, seeded(n))
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func b64Part(s string) string { _, b, _ := strings.Cut(s, ":"); return b }

// mismatchedSecret returns a secret key text whose public half belongs to
// another seed.
func mismatchedSecret(t testing.TB) string {
	a := mustGenerate(t, "mix", 1)
	b := mustGenerate(t, "mix", 2)
	raw := append(bytes.Clone(a.key()[:32]), b.key()[32:]...)
	return "mix:" + base64.StdEncoding.EncodeToString(raw)
}

type vector struct {
	name string // good_* or fail_*
	kind string // secret, public, signature, name, narhash, narinfo
	in   string
	want string // good: canonical result (see check in TestVectors)
	err  error  // fail: errors.Is target
}

func vectors(t testing.TB) []vector {
	golden := string(goldenNarinfo(t))
	pubB64 := b64Part(nixPublic)
	secB64 := b64Part(nixSecret)
	narinfo := func(drop string, extra ...string) string {
		var out []string
		for _, l := range strings.Split(strings.TrimSuffix(golden, "\n"), "\n") {
			if drop == "" || !strings.HasPrefix(l, drop+":") {
				out = append(out, l)
			}
		}
		return strings.Join(append(out, extra...), "\n") + "\n"
	}
	replace := func(old, new string) string { return strings.Replace(golden, old, new, 1) }
	return []vector{
		// Names.
		{name: "good_name_simple", kind: "name", in: "cache.example.org-1"},
		{name: "good_name_all_classes", kind: "name", in: "Az09._+-"},
		{name: "good_name_one_char", kind: "name", in: "a"},
		{name: "good_name_255", kind: "name", in: strings.Repeat("n", 255)},
		{name: "fail_name_empty", kind: "name", in: "", err: ErrInvalidName},
		{name: "fail_name_256", kind: "name", in: strings.Repeat("n", 256), err: ErrInvalidName},
		{name: "fail_name_space", kind: "name", in: "my key", err: ErrInvalidName},
		{name: "fail_name_colon", kind: "name", in: "a:b", err: ErrInvalidName},
		{name: "fail_name_hash", kind: "name", in: "a#b", err: ErrInvalidName},
		{name: "fail_name_slash", kind: "name", in: "a/b", err: ErrInvalidName},
		{name: "fail_name_newline", kind: "name", in: "a\nb", err: ErrInvalidName},
		{name: "fail_name_unicode", kind: "name", in: "caché", err: ErrInvalidName},
		{name: "fail_name_invalid_utf8", kind: "name", in: "a\xffb", err: ErrInvalidName},

		// Secret keys.
		{name: "good_secret_nix28", kind: "secret", in: nixSecret, want: nixPublic},
		{name: "good_secret_trailing_newline", kind: "secret", in: nixSecret + "\n", want: nixPublic},
		{name: "fail_secret_two_newlines", kind: "secret", in: nixSecret + "\n\n", err: ErrLineBreak},
		{name: "fail_secret_crlf", kind: "secret", in: nixSecret + "\r\n", err: ErrLineBreak},
		{name: "fail_secret_inner_newline", kind: "secret", in: "test1:" + secB64[:40] + "\n" + secB64[40:], err: ErrLineBreak},
		{name: "fail_secret_no_colon", kind: "secret", in: secB64, err: ErrMissingSeparator},
		{name: "fail_secret_no_colon_garbage", kind: "secret", in: "test1" + secB64, err: ErrMissingSeparator},
		{name: "fail_secret_empty_name", kind: "secret", in: ":" + secB64, err: ErrEmptyName},
		{name: "fail_secret_bad_name", kind: "secret", in: "my key:" + secB64, err: ErrInvalidName},
		{name: "fail_secret_empty_key", kind: "secret", in: "test1:", err: ErrEmptyKey},
		{name: "fail_secret_bad_char", kind: "secret", in: "test1:!" + secB64[1:], err: ErrBadBase64},
		{name: "fail_secret_urlsafe", kind: "secret", in: "test1:" + strings.NewReplacer("+", "-", "/", "_").Replace(secB64), err: ErrBadBase64},
		{name: "fail_secret_no_padding", kind: "secret", in: "test1:" + strings.TrimRight(secB64, "="), err: ErrBadBase64},
		{name: "fail_secret_second_colon", kind: "secret", in: "test1:" + secB64[:20] + ":" + secB64[20:], err: ErrBadBase64},
		{name: "fail_secret_noncanonical", kind: "secret", in: "test1:" + secB64[:85] + "R==", err: ErrBadBase64},
		{name: "fail_secret_truncated", kind: "secret", in: "test1:" + secB64[:44], err: ErrBadLength},
		{name: "fail_secret_seed_only", kind: "secret", in: "test1:" + base64.StdEncoding.EncodeToString(make([]byte, 32+3)), err: ErrBadLength},
		{name: "fail_secret_public_given", kind: "secret", in: nixPublic, err: ErrPublicKeyGiven},
		{name: "fail_secret_public_given_no_name", kind: "secret", in: pubB64, err: ErrPublicKeyGiven},
		{name: "fail_secret_halves_mismatch", kind: "secret", in: mismatchedSecret(t), err: ErrKeyMismatch},

		// Public keys.
		{name: "good_public_nix28", kind: "public", in: nixPublic, want: nixPublic},
		{name: "good_public_trailing_newline", kind: "public", in: nixPublic + "\n", want: nixPublic},
		{name: "fail_public_crlf", kind: "public", in: nixPublic + "\r\n", err: ErrLineBreak},
		{name: "fail_public_no_colon", kind: "public", in: pubB64, err: ErrMissingSeparator},
		{name: "fail_public_no_colon_word", kind: "public", in: "foo", err: ErrMissingSeparator},
		{name: "fail_public_empty_name", kind: "public", in: ":" + pubB64, err: ErrEmptyName},
		{name: "fail_public_bad_name", kind: "public", in: "cache#1:" + pubB64, err: ErrInvalidName},
		{name: "fail_public_empty_key", kind: "public", in: "test1:", err: ErrEmptyKey},
		{name: "fail_public_bad_base64", kind: "public", in: "test1:" + pubB64[:43] + "*", err: ErrBadBase64},
		{name: "fail_public_no_padding", kind: "public", in: "test1:" + strings.TrimRight(pubB64, "="), err: ErrBadBase64},
		{name: "fail_public_short", kind: "public", in: "test1:" + base64.StdEncoding.EncodeToString(make([]byte, 31)), err: ErrBadLength},
		{name: "fail_public_long", kind: "public", in: "test1:" + base64.StdEncoding.EncodeToString(make([]byte, 33)), err: ErrBadLength},
		{name: "fail_public_secret_given", kind: "public", in: nixSecret, err: ErrSecretKeyGiven},
		{name: "fail_public_secret_given_no_name", kind: "public", in: secB64, err: ErrSecretKeyGiven},
		{name: "fail_public_secret_file_given", kind: "public", in: nixSecret + "\n", err: ErrSecretKeyGiven},

		// Signatures.
		{name: "good_signature_nix28", kind: "signature", in: nixSig, want: nixSig},
		{name: "fail_signature_trailing_newline", kind: "signature", in: nixSig + "\n", err: ErrLineBreak},
		{name: "fail_signature_no_colon", kind: "signature", in: b64Part(nixSig), err: ErrMissingSeparator},
		{name: "fail_signature_empty_name", kind: "signature", in: ":" + b64Part(nixSig), err: ErrEmptyName},
		{name: "fail_signature_short", kind: "signature", in: "test1:" + base64.StdEncoding.EncodeToString(make([]byte, 63)), err: ErrBadLength},
		{name: "fail_signature_bad_base64", kind: "signature", in: "test1:" + b64Part(nixSig)[1:], err: ErrBadBase64},

		// NAR hashes (golden values from `nix hash to-base32/to-base16/to-sri`).
		{name: "good_narhash_nix32", kind: "narhash", in: hashNix32, want: hashNix32},
		{name: "good_narhash_base16", kind: "narhash", in: hashHex, want: hashNix32},
		{name: "good_narhash_base16_upper", kind: "narhash", in: hashHex[:7] + strings.ToUpper(hashHex[7:]), want: hashNix32},
		{name: "fail_narhash_upper_prefix", kind: "narhash", in: "SHA256:" + hashHex[7:], err: ErrBadHash},
		{name: "good_narhash_sri", kind: "narhash", in: hashSRI, want: hashNix32},
		{name: "good_narhash_base64", kind: "narhash", in: hashB64, want: hashNix32},
		{name: "good_narhash_zero", kind: "narhash", in: "sha256:" + strings.Repeat("0", 64), want: "sha256:" + strings.Repeat("0", 52)},
		{name: "good_narhash_ones", kind: "narhash", in: "sha256:" + strings.Repeat("f", 64), want: "sha256:1" + strings.Repeat("z", 51)},
		{name: "good_narhash_counting", kind: "narhash", in: "sha256:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", want: "sha256:07qy3lf1n6hr30bic58l2c91240g1q6hq2qa1440f1h50h1h4080"},
		{name: "good_narhash_top_bit", kind: "narhash", in: "sha256:1" + strings.Repeat("0", 51), want: "sha256:1" + strings.Repeat("0", 51)},
		{name: "fail_narhash_overflow_z", kind: "narhash", in: "sha256:z" + strings.Repeat("0", 51), err: ErrBadHash},
		{name: "fail_narhash_overflow_2", kind: "narhash", in: "sha256:2" + strings.Repeat("0", 51), err: ErrBadHash},
		{name: "fail_narhash_letter_e", kind: "narhash", in: "sha256:e" + hashNix32[8:], err: ErrBadHash},
		{name: "fail_narhash_sha512", kind: "narhash", in: "sha512:" + hashNix32[7:], err: ErrBadHash},
		{name: "fail_narhash_no_prefix", kind: "narhash", in: hashNix32[7:], err: ErrBadHash},
		{name: "fail_narhash_short", kind: "narhash", in: hashNix32[:58], err: ErrBadHash},
		{name: "fail_narhash_sri_nix32", kind: "narhash", in: "sha256-" + hashNix32[7:], err: ErrBadHash},
		{name: "fail_narhash_bad_hex", kind: "narhash", in: "sha256:" + strings.Repeat("g", 64), err: ErrBadHash},

		// Narinfo files; want is the fingerprint.
		{name: "good_narinfo_nix28", kind: "narinfo", in: golden, want: nixFP},
		{name: "good_narinfo_no_final_newline", kind: "narinfo", in: strings.TrimSuffix(golden, "\n"), want: nixFP},
		{name: "good_narinfo_base16_hash", kind: "narinfo", in: replace("NarHash: sha256:15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2", "NarHash: "+mustHex(t, "sha256:15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2")), want: nixFP},
		{name: "good_narinfo_refs_unsorted", kind: "narinfo", in: replace("References: ijhqwypx4s5mfi5378dngz4j2mpa55sj-probe-adep-exp3 vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3 wxwdn70pb7423rjh0ijs79644974a2xh-probe-zdep-exp3", "References: wxwdn70pb7423rjh0ijs79644974a2xh-probe-zdep-exp3  ijhqwypx4s5mfi5378dngz4j2mpa55sj-probe-adep-exp3 vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3"), want: nixFP},
		{name: "good_narinfo_no_refs", kind: "narinfo", in: narinfo("References", "References: "), want: "1;/nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3;sha256:15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2;288;"},
		{name: "good_narinfo_refs_line_absent", kind: "narinfo", in: narinfo("References"), want: "1;/nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3;sha256:15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2;288;"},
		{name: "good_narinfo_unknown_field", kind: "narinfo", in: narinfo("", "X-Whatever: yes"), want: nixFP},
		{name: "good_narinfo_unknown_deriver", kind: "narinfo", in: narinfo("Deriver", "Deriver: unknown-deriver"), want: nixFP},
		{name: "good_narinfo_ca", kind: "narinfo", in: narinfo("", "CA: fixed:r:sha256:"+hashNix32[7:]), want: nixFP},
		{name: "fail_narinfo_empty", kind: "narinfo", in: "", err: ErrBadNarinfo},
		{name: "fail_narinfo_no_storepath", kind: "narinfo", in: narinfo("StorePath"), err: ErrBadNarinfo},
		{name: "fail_narinfo_no_url", kind: "narinfo", in: narinfo("URL"), err: ErrBadNarinfo},
		{name: "fail_narinfo_no_narhash", kind: "narinfo", in: narinfo("NarHash"), err: ErrBadNarinfo},
		{name: "fail_narinfo_no_narsize", kind: "narinfo", in: narinfo("NarSize"), err: ErrBadNarinfo},
		{name: "fail_narinfo_narsize_zero", kind: "narinfo", in: narinfo("NarSize", "NarSize: 0"), err: ErrBadNarinfo},
		{name: "fail_narinfo_narsize_negative", kind: "narinfo", in: narinfo("NarSize", "NarSize: -1"), err: ErrBadNarinfo},
		{name: "fail_narinfo_narsize_plus", kind: "narinfo", in: narinfo("NarSize", "NarSize: +288"), err: ErrBadNarinfo},
		{name: "fail_narinfo_duplicate_storepath", kind: "narinfo", in: narinfo("", "StorePath: /nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3"), err: ErrBadNarinfo},
		{name: "fail_narinfo_bad_narhash", kind: "narinfo", in: narinfo("NarHash", "NarHash: md5:abc"), err: ErrBadHash},
		{name: "fail_narinfo_relative_storepath", kind: "narinfo", in: narinfo("StorePath", "StorePath: vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3"), err: ErrBadStorePath},
		{name: "fail_narinfo_storepath_bad_hash", kind: "narinfo", in: narinfo("StorePath", "StorePath: /nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x"), err: ErrBadStorePath},
		{name: "fail_narinfo_storepath_no_name", kind: "narinfo", in: narinfo("StorePath", "StorePath: /nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl"), err: ErrBadStorePath},
		{name: "fail_narinfo_storepath_semicolon", kind: "narinfo", in: narinfo("StorePath", "StorePath: /nix;/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-x"), err: ErrBadStorePath},
		{name: "fail_narinfo_bad_ref", kind: "narinfo", in: narinfo("References", "References: /nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-x"), err: ErrBadStorePath},
		{name: "fail_narinfo_ref_comma", kind: "narinfo", in: narinfo("References", "References: vvcwxqgypr58bsacac4lx2q85c1nxkbl-x,y"), err: ErrBadStorePath},
		{name: "fail_narinfo_bad_deriver", kind: "narinfo", in: narinfo("Deriver", "Deriver: x.drv"), err: ErrBadStorePath},
		{name: "fail_narinfo_no_space", kind: "narinfo", in: narinfo("URL", "URL:nar/x.nar"), err: ErrBadNarinfo},
		{name: "fail_narinfo_no_colon", kind: "narinfo", in: narinfo("", "garbage"), err: ErrBadNarinfo},
		{name: "fail_narinfo_blank_line", kind: "narinfo", in: narinfo("", "", "Sig: "+nixSig), err: ErrBadNarinfo},
		{name: "fail_narinfo_crlf", kind: "narinfo", in: strings.ReplaceAll(golden, "\n", "\r\n"), err: ErrBadNarinfo},
		{name: "fail_narinfo_empty_sig", kind: "narinfo", in: narinfo("", "Sig: "), err: ErrBadNarinfo},
		{name: "fail_narinfo_empty_url", kind: "narinfo", in: narinfo("URL", "URL: "), err: ErrBadNarinfo},
		{name: "fail_narinfo_duplicate_ca", kind: "narinfo", in: narinfo("", "CA: text:x", "CA: text:y"), err: ErrBadNarinfo},
	}
}

func mustSRI(t testing.TB, nix32 string) string {
	sum, err := decodeNix32(strings.TrimPrefix(nix32, "sha256:"), 32)
	if err != nil {
		t.Fatal(err)
	}
	return "sha256-" + base64.StdEncoding.EncodeToString(sum)
}

func mustHex(t testing.TB, nix32 string) string {
	sum, err := decodeNix32(strings.TrimPrefix(nix32, "sha256:"), 32)
	if err != nil {
		t.Fatal(err)
	}
	return "sha256:" + hex.EncodeToString(sum)
}

// TestVectors walks every vector: good_* must succeed with the wanted
// canonical result, fail_* must fail with an error matching err.
func TestVectors(t *testing.T) {
	for _, v := range vectors(t) {
		t.Run(v.name, func(t *testing.T) {
			good := strings.HasPrefix(v.name, "good_")
			if !good && !strings.HasPrefix(v.name, "fail_") {
				t.Fatalf("vector name %q must start with good_ or fail_", v.name)
			}
			if good == (v.err != nil) {
				t.Fatalf("vector %q: good vectors need no err, fail vectors need one", v.name)
			}
			got, err := runVector(v)
			if good {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if got != v.want {
					t.Fatalf("got  %q\nwant %q", got, v.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("expected an error wrapping %v, got success %q", v.err, got)
			}
			if !errors.Is(err, v.err) {
				t.Fatalf("error %q (%T) does not wrap %v", err, err, v.err)
			}
			checkErrorStyle(t, err)
			t.Logf("error: %v", err)
		})
	}
}

func runVector(v vector) (string, error) {
	switch v.kind {
	case "name":
		return "", ValidateName(v.in)
	case "secret":
		sk, err := ParseSecretKey(v.in)
		if err != nil {
			return "", err
		}
		return sk.Public().String(), nil
	case "public":
		pk, err := ParsePublicKey(v.in)
		if err != nil {
			return "", err
		}
		return pk.String(), nil
	case "signature":
		s, err := ParseSignature(v.in)
		if err != nil {
			return "", err
		}
		return s.String(), nil
	case "narhash":
		return NormalizeNarHash(v.in)
	case "narinfo":
		n, err := ParseNarinfo([]byte(v.in))
		if err != nil {
			return "", err
		}
		return n.Fingerprint()
	}
	panic("unknown vector kind " + v.kind)
}

// checkErrorStyle enforces the error style: no final period, no
// capitalised first word (acronyms like NAR are fine), one line.
func checkErrorStyle(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if msg == "" || strings.HasSuffix(msg, ".") {
		t.Errorf("error %q is empty or ends with a period", msg)
	}
	r := []rune(msg)
	if len(r) > 1 && unicode.IsUpper(r[0]) && !unicode.IsUpper(r[1]) {
		t.Errorf("error %q starts with a capital letter", msg)
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error %q spans lines", msg)
	}
}

func TestValidateNameMessage(t *testing.T) {
	err := ValidateName("my key")
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, want := range []string{`" "`, "A-Z a-z 0-9 . _ + -", "byte 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if err := ValidateName("a\xffb"); err == nil || !strings.Contains(err.Error(), `"\xff"`) {
		t.Errorf("invalid UTF-8 byte not quoted: %v", err)
	}
	if err := ValidateName("café"); err == nil || !strings.Contains(err.Error(), `"é"`) {
		t.Errorf("non-ASCII rune not quoted whole: %v", err)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	sk, err := Generate("det-1", bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	want := "det-1:" + base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(seed))
	if got := string(sk.Encode()); got != want {
		t.Fatalf("Encode = %q, want %q", got, want)
	}
	again := mustGenerate(t, "x", 9)
	if !bytes.Equal(again.Encode(), mustGenerate(t, "x", 9).Encode()) {
		t.Fatal("same seeded reader gave different keys")
	}
	if bytes.Equal(again.Encode(), mustGenerate(t, "x", 10).Encode()) {
		t.Fatal("different seeds gave the same key")
	}
}

func TestGenerateErrors(t *testing.T) {
	if _, err := Generate("ok", nil); err == nil {
		t.Error("nil rand accepted")
	}
	if _, err := Generate("bad name", rand.Reader); !errors.Is(err, ErrInvalidName) {
		t.Errorf("bad name: got %v", err)
	}
	if _, err := Generate("ok", bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("short reader accepted")
	}
	sk, err := Generate("ok", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(sk.Encode()) != len("ok:")+88 {
		t.Errorf("Encode length %d", len(sk.Encode()))
	}
}

func TestNixGoldenKeyAndSignature(t *testing.T) {
	sk, err := ParseSecretKey(nixSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(sk.Encode()); got != nixSecret {
		t.Fatalf("Encode = %q, want the input back", got)
	}
	if again, _ := ParseSecretKey(nixSecret + "\n"); !again.Equal(sk) || sk.Equal(mustGenerate(t, "test1", 1)) || sk.Equal(nil) {
		t.Fatal("SecretKey.Equal")
	}
	pk, err := ParsePublicKey(nixPublic)
	if err != nil {
		t.Fatal(err)
	}
	if !sk.Public().Equal(pk) {
		t.Fatalf("derived public key %v != nix's %v", sk.Public(), pk)
	}
	n, err := ParseNarinfo(goldenNarinfo(t))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := n.Fingerprint()
	if err != nil || fp != nixFP {
		t.Fatalf("fingerprint = %q, %v\nwant %q", fp, err, nixFP)
	}
	sig, err := sk.SignNarinfo(n)
	if err != nil {
		t.Fatal(err)
	}
	if sig.String() != nixSig || len(n.Sigs) != 1 || n.Sigs[0] != nixSig {
		t.Fatalf("our signature %q, narinfo has %q", sig, n.Sigs)
	}
	ok, err := pk.VerifyNarinfo(n)
	if !ok || err != nil {
		t.Fatalf("VerifyNarinfo = %v, %v", ok, err)
	}
	// Wrong key, same name: false. Same key, other name: false.
	other := mustGenerate(t, "test1", 3).Public()
	if ok, err := other.VerifyNarinfo(n); ok || err != nil {
		t.Errorf("other key verified: %v %v", ok, err)
	}
	renamed := &PublicKey{Name: "test2", Key: pk.Key}
	if ok, _ := renamed.VerifyNarinfo(n); ok {
		t.Error("key with another name verified")
	}
	// Tampering with any fingerprint field breaks the signature.
	for _, mut := range []func(*Narinfo){
		func(n *Narinfo) { n.NarSize++ },
		func(n *Narinfo) { n.References = n.References[1:] },
		func(n *Narinfo) { n.StorePath = strings.Replace(n.StorePath, "exp3", "exp4", 1) },
		func(n *Narinfo) { n.NarHash = "sha256:" + strings.Repeat("0", 52) },
	} {
		m := *n
		mut(&m)
		if ok, _ := pk.VerifyNarinfo(&m); ok {
			t.Errorf("tampered narinfo %+v verified", m)
		}
	}
	// A hand-made Narinfo may hold the NAR hash in SRI form.
	m := *n
	m.NarHash = mustSRI(t, n.NarHash)
	if ok, err := pk.VerifyNarinfo(&m); !ok || err != nil {
		t.Errorf("SRI NarHash: %v %v", ok, err)
	}
	// URL, Deriver and CA are not signed.
	m = *n
	m.URL, m.Deriver, m.CA = "nar/other.nar", "", "text:x"
	if ok, _ := pk.VerifyNarinfo(&m); !ok {
		t.Error("unsigned fields changed the verdict")
	}
}

func TestVerifyNarinfoSigHandling(t *testing.T) {
	n, err := ParseNarinfo(goldenNarinfo(t))
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := ParsePublicKey(nixPublic)
	good := n.Sigs[0]
	cases := []struct {
		name    string
		sigs    []string
		ok      bool
		wantErr bool
	}{
		{"good_only", []string{good}, true, false},
		{"good_after_malformed_other_key", []string{"other:!!", good}, true, false},
		{"good_after_malformed_same_name", []string{"test1:AAAA", good}, true, false},
		{"malformed_same_name_only", []string{"test1:AAAA"}, false, true},
		{"other_keys_only", []string{"cache.nixos.org-1:" + b64Part(good)}, false, false},
		{"none", nil, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := *n
			m.Sigs = c.sigs
			ok, err := pk.VerifyNarinfo(&m)
			if ok != c.ok || (err != nil) != c.wantErr {
				t.Fatalf("got %v, %v; want %v, error %v", ok, err, c.ok, c.wantErr)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	sk := mustGenerate(t, "cache.example.org-1", 1)
	pk := sk.Public()
	msg := []byte("hello")
	sig := sk.Sign(msg)
	if !pk.Verify(msg, sig) {
		t.Fatal("own signature does not verify")
	}
	if pk.Verify([]byte("hellp"), sig) {
		t.Error("signature verified another message")
	}
	if pk.Verify(msg, &Signature{KeyName: "other", Sig: sig.Sig}) {
		t.Error("signature with another key name verified")
	}
	if pk.Verify(msg, nil) || pk.Verify(msg, &Signature{KeyName: pk.Name, Sig: sig.Sig[:10]}) {
		t.Error("nil or short signature verified")
	}
	if (&PublicKey{Name: pk.Name, Key: pk.Key[:5]}).Verify(msg, sig) {
		t.Error("short public key verified")
	}
	back, err := ParseSignature(sig.String())
	if err != nil || !bytes.Equal(back.Sig, sig.Sig) || back.KeyName != sig.KeyName {
		t.Fatalf("signature round trip: %v %v", back, err)
	}
}

func TestPublicKeyMethods(t *testing.T) {
	pk, err := ParsePublicKey(nixPublic)
	if err != nil {
		t.Fatal(err)
	}
	if pk.String() != nixPublic {
		t.Errorf("String = %q", pk.String())
	}
	// sha256 of the 32 raw key bytes, unpadded base64, like ssh-keygen -l.
	fp := pk.Fingerprint()
	if !strings.HasPrefix(fp, "SHA256:") || len(fp) != len("SHA256:")+43 || strings.HasSuffix(fp, "=") {
		t.Errorf("Fingerprint = %q", fp)
	}
	if fp != (&PublicKey{Name: "other", Key: pk.Key}).Fingerprint() {
		t.Error("fingerprint depends on the name")
	}
	var nilKey *PublicKey
	if !nilKey.Equal(nil) || pk.Equal(nil) || nilKey.Equal(pk) {
		t.Error("nil handling in Equal")
	}
	if pk.Equal(&PublicKey{Name: "other", Key: pk.Key}) || !pk.Equal(&PublicKey{Name: "test1", Key: bytes.Clone(pk.Key)}) {
		t.Error("Equal compares wrongly")
	}
}

// TestSecretKeyRedaction checks that no fmt verb reveals key material,
// whether the key is printed directly, by pointer, or nested.
func TestSecretKeyRedaction(t *testing.T) {
	sk := mustGenerate(t, "redact-me", 5)
	enc := string(sk.Encode())
	secret := b64Part(enc)
	priv := sk.key()
	forbidden := []string{
		secret[:8], secret[40:48],
		hex.EncodeToString(priv[:4]), hex.EncodeToString(priv[40:44]),
		strings.ToUpper(hex.EncodeToString(priv[:4])),
		strings.Trim(fmt.Sprint([]byte(priv[:4])), "[]"),
		strings.Trim(fmt.Sprint([]byte(priv[40:44])), "[]"),
		fmt.Sprintf("%q", string(priv[:4])),
	}
	type exported struct{ K SecretKey }
	type unexported struct{ k SecretKey }
	type unexportedPtr struct{ k *SecretKey }
	values := []any{sk, *sk, exported{*sk}, unexported{*sk}, unexportedPtr{sk}, []SecretKey{*sk}, map[string]*SecretKey{"a": sk}, &exported{*sk}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
		for i, v := range values {
			out := fmt.Sprintf(verb, v)
			for _, f := range forbidden {
				if strings.Contains(out, f) {
					t.Errorf("Sprintf(%s, value %d) = %q reveals %q", verb, i, out, f)
				}
			}
		}
	}
	if got := sk.String(); got != "redact-me:<secret key redacted>" {
		t.Errorf("String = %q", got)
	}
	if got := fmt.Sprintf("%v|%s|%#v", sk, *sk, sk); got != `redact-me:<secret key redacted>|redact-me:<secret key redacted>|keys.SecretKey{Name:"redact-me", key:<secret key redacted>}` {
		t.Errorf("formatted = %q", got)
	}
}

func TestZeroSecretKeyPanicsClearly(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "no key material") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	var sk SecretKey
	_ = fmt.Sprint(sk) // printing is fine
	sk.Sign([]byte("x"))
}

// TestSecretKeyErrorsNeverLeak corrupts a secret key text in many ways and
// checks that no error contains any 8-character window of its base64.
func TestSecretKeyErrorsNeverLeak(t *testing.T) {
	for seed := byte(0); seed < 4; seed++ {
		sk := mustGenerate(t, "leak-test", seed)
		enc := string(sk.Encode())
		secret := b64Part(enc)
		var inputs []string
		add := func(s ...string) { inputs = append(inputs, s...) }
		add(secret, secret+"\n", secret+"\r\n", enc+"\r\n", enc+"\n\n", "\n"+enc,
			secret+":leak-test", ":"+secret, "leak-test:"+secret+secret, enc+enc,
			"leak-test:"+strings.TrimRight(secret, "="), "leak test:"+secret,
			"leak-test:"+secret+" ", " "+enc, "leak-test: "+secret,
			"leak-test:"+strings.NewReplacer("+", "-", "/", "_").Replace(secret))
		for i := 0; i <= len(secret); i++ {
			add("leak-test:"+secret[:i], "leak-test:"+secret[i:],
				secret[:i]+":"+secret[i:], // secret text as the name
				secret[:i]+"\n"+secret[i:])
			for _, c := range []string{"!", "-", "=", ":", " ", "\n", "\r", "\x00", "A", "/"} {
				if i < len(secret) {
					add("leak-test:" + secret[:i] + c + secret[i+1:])
				}
				add("leak-test:" + secret[:i] + c + secret[i:])
			}
		}
		// Mismatched halves (a corrupted public half).
		raw, _ := base64.StdEncoding.DecodeString(secret)
		for i := range raw {
			bad := bytes.Clone(raw)
			bad[i] ^= 0x40
			add("leak-test:" + base64.StdEncoding.EncodeToString(bad))
		}
		errs := 0
		for _, in := range inputs {
			_, err := ParseSecretKey(in)
			if err == nil {
				continue
			}
			errs++
			msg := err.Error()
			for w := 0; w+8 <= len(secret); w++ {
				if strings.Contains(msg, secret[w:w+8]) {
					t.Fatalf("error for a corrupted key leaks %q: %s", secret[w:w+8], msg)
				}
			}
			for w := 0; w+4 <= len(raw); w++ {
				if strings.Contains(msg, string(raw[w:w+4])) || strings.Contains(msg, hex.EncodeToString(raw[w:w+4])) {
					t.Fatalf("error leaks raw key bytes: %s", msg)
				}
			}
		}
		if errs < len(inputs)/2 {
			t.Fatalf("only %d of %d corrupted inputs failed", errs, len(inputs))
		}
		// The same for secret keys handed to ParsePublicKey.
		for _, in := range []string{enc, enc + "\n", secret, "x:" + secret[:87], enc[:len(enc)-1] + "!"} {
			_, err := ParsePublicKey(in)
			if err == nil {
				t.Fatalf("ParsePublicKey accepted a secret key")
			}
			for w := 0; w+8 <= len(secret); w++ {
				if strings.Contains(err.Error(), secret[w:w+8]) {
					t.Fatalf("ParsePublicKey error leaks the secret: %s", err)
				}
			}
		}
	}
}

func TestSecretKeyGivenMessage(t *testing.T) {
	_, err := ParsePublicKey(nixSecret)
	if !errors.Is(err, ErrSecretKeyGiven) || !strings.Contains(err.Error(), "a secret key was given where a public key belongs") {
		t.Errorf("got %v", err)
	}
	_, err = ParseSecretKey(nixPublic)
	if !errors.Is(err, ErrPublicKeyGiven) || !strings.Contains(err.Error(), "a public key was given where a secret key belongs") {
		t.Errorf("got %v", err)
	}
	_, err = ParseSecretKey("test1:" + base64.StdEncoding.EncodeToString(make([]byte, 40)))
	if !errors.Is(err, ErrBadLength) || !strings.Contains(err.Error(), "has 40 bytes, want 64") {
		t.Errorf("got %v", err)
	}
	_, err = ParsePublicKey("foo:" + base64.StdEncoding.EncodeToString(make([]byte, 40)))
	if !errors.Is(err, ErrBadLength) || !strings.Contains(err.Error(), `public key "foo" has 40 bytes, want 32`) {
		t.Errorf("got %v", err)
	}
}

func TestNix32(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	for _, size := range []int{1, 16, 20, 32, 64} {
		for i := 0; i < 200; i++ {
			b := make([]byte, size)
			for j := range b {
				b[j] = byte(r.Uint32())
			}
			s := encodeNix32(b)
			if len(s) != nix32Len(size) {
				t.Fatalf("len %d, want %d", len(s), nix32Len(size))
			}
			back, err := decodeNix32(s, size)
			if err != nil || !bytes.Equal(back, b) {
				t.Fatalf("round trip of %x: %x %v", b, back, err)
			}
		}
	}
	if nix32Len(32) != 52 || nix32Len(20) != 32 || nix32Len(64) != 103 {
		t.Error("nix32Len")
	}
}

func TestNarFingerprint(t *testing.T) {
	const (
		a = "/nix/store/ijhqwypx4s5mfi5378dngz4j2mpa55sj-a"
		b = "/nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-b"
		c = "/nix/store/wxwdn70pb7423rjh0ijs79644974a2xh-c"
	)
	refs := []string{c, a, b, a}
	fp, err := NarFingerprint(b, hashNix32, 120, refs)
	if err != nil {
		t.Fatal(err)
	}
	if want := "1;" + b + ";" + hashNix32 + ";120;" + a + "," + b + "," + c; fp != want {
		t.Errorf("got  %q\nwant %q", fp, want)
	}
	if refs[0] != c || refs[3] != a {
		t.Error("NarFingerprint modified the caller's slice")
	}
	if fp, _ := NarFingerprint(b, hashNix32, 1, nil); !strings.HasSuffix(fp, ";1;") {
		t.Errorf("no refs: %q", fp)
	}
	fails := []struct {
		name string
		path string
		hash string
		size uint64
		refs []string
		err  error
	}{
		{"fail_hash_base16", b, hashHex, 1, nil, ErrBadHash},
		{"fail_hash_sri", b, hashSRI, 1, nil, ErrBadHash},
		{"fail_size_zero", b, hashNix32, 0, nil, ErrBadNarinfo},
		{"fail_path_relative", "nix/store/x", hashNix32, 1, nil, ErrBadStorePath},
		{"fail_ref_basename", b, hashNix32, 1, []string{"ijhqwypx4s5mfi5378dngz4j2mpa55sj-a"}, ErrBadStorePath},
		{"fail_ref_other_store", b, hashNix32, 1, []string{"/gnu/store/ijhqwypx4s5mfi5378dngz4j2mpa55sj-a"}, ErrBadStorePath},
	}
	for _, f := range fails {
		if _, err := NarFingerprint(f.path, f.hash, f.size, f.refs); !errors.Is(err, f.err) {
			t.Errorf("%s: got %v, want %v", f.name, err, f.err)
		}
	}
}

func TestNarinfoParseFields(t *testing.T) {
	n, err := ParseNarinfo(goldenNarinfo(t))
	if err != nil {
		t.Fatal(err)
	}
	want := &Narinfo{
		StorePath: "/nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3",
		URL:       "nar/15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2.nar",
		NarHash:   "sha256:15fzyp4rgjlpl375lb8hc94k55lfy3bp0pg8j5b418x5k6fmv9b2",
		NarSize:   288,
		References: []string{
			"ijhqwypx4s5mfi5378dngz4j2mpa55sj-probe-adep-exp3",
			"vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3",
			"wxwdn70pb7423rjh0ijs79644974a2xh-probe-zdep-exp3",
		},
		Deriver: "wfcfrxy4pwm4k85v0pllg9l2lfcnrgnv-probe-exp3.drv",
		Sigs:    []string{nixSig},
	}
	if fmt.Sprintf("%#v", n) != fmt.Sprintf("%#v", want) {
		t.Errorf("got  %#v\nwant %#v", n, want)
	}
	back, err := ParseNarinfo(n.encode())
	if err != nil || fmt.Sprintf("%#v", back) != fmt.Sprintf("%#v", n) {
		t.Errorf("encode round trip: %#v %v", back, err)
	}
}

func TestNarinfoSizeLimit(t *testing.T) {
	big := append(goldenNarinfo(t), bytes.Repeat([]byte("X-Padding: x\n"), MaxNarinfoSize/13+1)...)
	if _, err := ParseNarinfo(big); !errors.Is(err, ErrBadNarinfo) || !strings.Contains(err.Error(), "more than the limit of 1048576") {
		t.Errorf("a narinfo over the limit: %v", err)
	}
	if _, err := ParseNarinfo(goldenNarinfo(t)); err != nil {
		t.Errorf("the golden narinfo: %v", err)
	}
}
