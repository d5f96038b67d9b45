package keys

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkHostileError asserts what every error from a hostile narinfo must
// be: one line, valid UTF-8, short, and of the narinfo class.
func checkHostileError(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if len(msg) > 600 {
		t.Fatalf("error is %d bytes long: %.200s...", len(msg), msg)
	}
	if strings.ContainsAny(msg, "\n\r") || !utf8.ValidString(msg) {
		t.Fatalf("error is not one line of valid UTF-8: %q", msg)
	}
	if !errors.Is(err, ErrBadNarinfo) {
		t.Fatalf("error does not wrap ErrBadNarinfo: %v", err)
	}
}

// Narinfos a hostile or broken cache might serve: every one is refused with
// a short error, none panics.
func TestParseNarinfoHostile(t *testing.T) {
	golden := string(goldenNarinfo(t))
	big := strings.Repeat("x", 900_000)
	manySigs := golden + strings.Repeat("Sig: "+nixSig+"\n", MaxNarinfoSigs)
	for _, c := range []struct {
		name, in, want string
	}{
		{"huge_line_no_colon", golden + big + "\n", "no ':' in"},
		{"huge_narsize", strings.Replace(golden, "NarSize: 288", "NarSize: "+big, 1), "not a decimal"},
		{"huge_reference", strings.Replace(golden, "References: ", "References: "+big+" ", 1), "References"},
		{"huge_storepath", strings.Replace(golden, "StorePath: /nix/store/vvcwxqgypr58bsacac4lx2q85c1nxkbl-probe-exp3", "StorePath: /nix/store/"+big, 1), "StorePath"},
		{"huge_narhash", strings.Replace(golden, "NarHash: ", "NarHash: sha256:"+big, 1), "NarHash"},
		{"huge_field_name", golden + big + ":x\n", "no space after"},
		{"too_large", golden + "X-Pad: " + strings.Repeat("p", MaxNarinfoSize) + "\n", "more than the limit"},
		{"too_many_sigs", manySigs, "more than 64 Sig lines"},
		{"invalid_utf8_storepath", strings.Replace(golden, "probe-exp3\n", "probe-\xff\xfe\n", 1), "illegal character"},
		{"invalid_utf8_line", golden + "\xff\xfe\xfd\n", "no ':' in"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseNarinfo([]byte(c.in))
			if err == nil {
				t.Fatal("hostile narinfo parsed")
			}
			checkHostileError(t, err)
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
		})
	}
	// Exactly MaxNarinfoSigs signatures and unknown fields with invalid
	// UTF-8 are still a narinfo.
	ok := golden + strings.Repeat("Sig: "+nixSig+"\n", MaxNarinfoSigs-1) + "X-Junk: \xff\xfe\n\x00\x00: x\n" + big + ":\n"
	n, err := ParseNarinfo([]byte(ok))
	if err != nil || len(n.Sigs) != MaxNarinfoSigs {
		t.Fatalf("ParseNarinfo(64 sigs) = %v sigs, %v", n, err)
	}
}

// Parsing the largest accepted narinfo allocates a small multiple of its
// size, whatever its shape: many short lines, one long line, many
// references.
func TestParseNarinfoMemoryBounded(t *testing.T) {
	golden := goldenNarinfo(t)
	ref := " ijhqwypx4s5mfi5378dngz4j2mpa55sj-probe-adep-exp3"
	shapes := map[string][]byte{
		"short_lines": append(bytes.Clone(golden), bytes.Repeat([]byte("X: y\n"), (MaxNarinfoSize-len(golden))/5)...),
		"long_line":   append(bytes.Clone(golden), []byte("X-Pad: "+strings.Repeat("p", MaxNarinfoSize-len(golden)-8)+"\n")...),
		"many_refs": bytes.Replace(golden, []byte("References:"),
			[]byte("References:"+strings.Repeat(ref, (MaxNarinfoSize-len(golden))/len(ref))), 1),
	}
	for name, in := range shapes {
		t.Run(name, func(t *testing.T) {
			if len(in) > MaxNarinfoSize {
				t.Fatalf("test input is %d bytes", len(in))
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := ParseNarinfo(in)
			runtime.ReadMemStats(&after)
			if name == "many_refs" && err != nil {
				t.Fatalf("many references: %v", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*MaxNarinfoSize {
				t.Fatalf("parsing %d bytes allocated %d bytes", len(in), alloc)
			}
		})
	}
}

// FuzzParseNarinfoHostile feeds narinfos built from a valid one plus
// fuzzed junk repeated many times (long lines, many Sig lines, invalid
// UTF-8): parsing never panics, errors stay short, and a result never
// has more than MaxNarinfoSigs signatures.
func FuzzParseNarinfoHostile(f *testing.F) {
	f.Add([]byte("Sig: "+nixSig+"\n"), uint16(70))
	f.Add([]byte("X: \xff\xfe"), uint16(1000))
	f.Add([]byte("References: ijhqwypx4s5mfi5378dngz4j2mpa55sj-x "), uint16(20000))
	f.Add([]byte("x"), uint16(65535))
	golden := goldenNarinfo(f)
	f.Fuzz(func(t *testing.T, junk []byte, repeat uint16) {
		in := append(bytes.Clone(golden), bytes.Repeat(junk, int(repeat))...)
		n, err := ParseNarinfo(in)
		if err != nil {
			checkHostileError(t, err)
			return
		}
		if len(in) > MaxNarinfoSize || len(n.Sigs) > MaxNarinfoSigs {
			t.Fatalf("accepted %d bytes with %d signatures", len(in), len(n.Sigs))
		}
	})
}
