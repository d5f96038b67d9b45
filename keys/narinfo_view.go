package keys

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"
)

// NarinfoView is a narinfo parsed where it lies, for programs that read
// many narinfos (an audit of a whole cache). [NarinfoView.Parse] accepts
// exactly what [ParseNarinfo] accepts and returns the same errors, but in
// the usual case (a narinfo as Nix writes it) it allocates nothing: its
// fields are views into the text, and the fingerprint is built in a
// buffer reused for the next narinfo. With 100,000 narinfos, building a
// [Narinfo] and its fingerprint as strings cost a tenth of an audit.
//
// The slices are valid until the next Parse, or until the caller changes
// the text. A NarinfoView is not safe for concurrent use; the zero value
// is ready.
type NarinfoView struct {
	// StorePath is the full store path.
	StorePath []byte
	// CA is the content address; empty when there is none.
	CA []byte
	// Sigs are the Sig values (NAME:BASE64), in file order.
	Sigs [][]byte

	fp   []byte
	refs [][]byte
}

// Fingerprint returns the text the narinfo's signatures sign, as
// [Narinfo.Fingerprint] does, from the last successful Parse.
func (v *NarinfoView) Fingerprint() []byte { return v.fp }

// Parse parses text as [ParseNarinfo] does.
func (v *NarinfoView) Parse(text []byte) error {
	if v.parse(text) {
		return nil
	}
	// Anything unusual (an error, a NAR hash in hex or base64, spaces
	// between references) goes through ParseNarinfo, so errors and
	// results stay exactly its own.
	v.reset()
	n, err := ParseNarinfo(text)
	if err != nil {
		return err
	}
	fp, err := n.Fingerprint()
	if err != nil {
		return err
	}
	v.StorePath = []byte(n.StorePath)
	if n.CA != "" {
		v.CA = []byte(n.CA)
	}
	for _, s := range n.Sigs {
		v.Sigs = append(v.Sigs, []byte(s))
	}
	v.fp = append(v.fp, fp...)
	return nil
}

func (v *NarinfoView) reset() {
	v.StorePath, v.CA = nil, nil
	clear(v.Sigs)
	v.Sigs = v.Sigs[:0]
	clear(v.refs)
	v.refs = v.refs[:0]
	v.fp = v.fp[:0]
}

// Bits of the fields ParseNarinfo allows once.
const (
	seenStorePath = 1 << iota
	seenURL
	seenNarHash
	seenNarSize
	seenReferences
	seenDeriver
	seenCA
	seenRequired = seenStorePath | seenURL | seenNarHash | seenNarSize
)

// parse is ParseNarinfo and Narinfo.Fingerprint for the usual narinfo,
// in place. It returns false, leaving the view in any state, for
// anything ParseNarinfo might refuse or handle differently; it never
// accepts what ParseNarinfo refuses (FuzzNarinfoView checks both).
func (v *NarinfoView) parse(text []byte) bool {
	v.reset()
	if len(text) == 0 || len(text) > MaxNarinfoSize || bytes.IndexByte(text, '\r') >= 0 {
		return false
	}
	body := text
	if body[len(body)-1] == '\n' {
		body = body[:len(body)-1]
	}
	var seen int
	var narHash []byte
	var narSize uint64
	for {
		line := body
		i := bytes.IndexByte(body, '\n')
		if i >= 0 {
			line, body = body[:i], body[i+1:]
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return false
		}
		name, value := line[:colon], line[colon+1:]
		if len(value) > 0 {
			if value[0] != ' ' {
				return false
			}
			value = value[1:]
		}
		bit := 0
		switch string(name) {
		case "StorePath":
			if !validStorePath(value) {
				return false
			}
			v.StorePath, bit = value, seenStorePath
		case "URL":
			if len(value) == 0 {
				return false
			}
			bit = seenURL
		case "NarHash":
			h, ok := bytes.CutPrefix(value, []byte("sha256:"))
			if !ok || !validNix32SHA256(h) {
				return false
			}
			narHash, bit = value, seenNarHash
		case "NarSize":
			// Up to 19 digits cannot overflow; longer ones go to strconv.
			if len(value) == 0 || len(value) > 19 {
				return false
			}
			narSize = 0
			for _, c := range value {
				if c < '0' || c > '9' {
					return false
				}
				narSize = narSize*10 + uint64(c-'0')
			}
			if narSize == 0 {
				return false
			}
			bit = seenNarSize
		case "References":
			// ParseNarinfo skips empty tokens (two spaces in a row); so
			// may this, but one space between references is the rule.
			for len(value) > 0 {
				ref := value
				if j := bytes.IndexByte(value, ' '); j >= 0 {
					ref, value = value[:j], value[j+1:]
					if len(value) == 0 {
						return false
					}
				} else {
					value = nil
				}
				if !validStoreBase(ref) {
					return false
				}
				v.refs = append(v.refs, ref)
			}
			bit = seenReferences
		case "Deriver":
			if string(value) != "unknown-deriver" && !validStoreBase(value) {
				return false
			}
			bit = seenDeriver
		case "CA":
			if len(value) == 0 {
				return false
			}
			v.CA, bit = value, seenCA
		case "Sig":
			if len(value) == 0 || len(v.Sigs) == MaxNarinfoSigs {
				return false
			}
			v.Sigs = append(v.Sigs, value)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if i < 0 {
			break
		}
	}
	if seen&seenRequired != seenRequired {
		return false
	}
	// 1;STOREPATH;NARHASH;NARSIZE;REF1,REF2,... with full, sorted,
	// distinct references; NarHash is already canonical sha256:nix32.
	dir := v.StorePath[:bytes.LastIndexByte(v.StorePath, '/')+1]
	fp := append(v.fp[:0], "1;"...)
	fp = append(fp, v.StorePath...)
	fp = append(fp, ';')
	fp = append(fp, narHash...)
	fp = append(fp, ';')
	fp = strconv.AppendUint(fp, narSize, 10)
	fp = append(fp, ';')
	if !slices.IsSortedFunc(v.refs, bytes.Compare) {
		slices.SortFunc(v.refs, bytes.Compare)
	}
	for i, r := range v.refs {
		if i > 0 {
			if bytes.Equal(r, v.refs[i-1]) {
				continue
			}
			fp = append(fp, ',')
		}
		fp = append(fp, dir...)
		fp = append(fp, r...)
	}
	v.fp = fp
	return true
}

// Character classes for the in-place checks, the same sets as
// nix32Alphabet, checkStoreBase and splitStorePath use.
const (
	classNix32 = 1 << iota
	classStoreName
)

var charClass = func() (t [256]uint8) {
	for i := range len(nix32Alphabet) {
		t[nix32Alphabet[i]] |= classNix32
	}
	for c := range 256 {
		b := byte(c)
		if 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || bytes.IndexByte([]byte(storePathChars), b) >= 0 {
			t[c] |= classStoreName
		}
	}
	return t
}()

// validNix32SHA256 reports whether decodeNix32(s, 32) succeeds: 52
// characters of the alphabet, and a first character that carries no bit
// beyond the hash's 256 (0 or 1).
func validNix32SHA256(s []byte) bool {
	if len(s) != nix32Len(sha256Len) || (s[0] != '0' && s[0] != '1') {
		return false
	}
	for _, c := range s {
		if charClass[c]&classNix32 == 0 {
			return false
		}
	}
	return true
}

// validStoreBase reports whether checkStoreBase accepts base.
func validStoreBase(base []byte) bool {
	if len(base) < storeHashLen+2 || len(base) > storeHashLen+1+maxStoreName || base[storeHashLen] != '-' {
		return false
	}
	for _, c := range base[:storeHashLen] {
		if charClass[c]&classNix32 == 0 {
			return false
		}
	}
	for _, c := range base[storeHashLen+1:] {
		if charClass[c]&classStoreName == 0 {
			return false
		}
	}
	return true
}

// validStorePath reports whether splitStorePath accepts p.
func validStorePath(p []byte) bool {
	i := bytes.LastIndexByte(p, '/')
	if i <= 0 || p[0] != '/' {
		return false
	}
	for seg := range bytes.SplitSeq(p[1:i], []byte("/")) {
		if len(seg) == 0 || string(seg) == "." || string(seg) == ".." || bytes.ContainsAny(seg, ";,\n") {
			return false
		}
	}
	return validStoreBase(p[i+1:])
}

// strictBase64 is made once: Strict returns a new Encoding each call.
var strictBase64 = base64.StdEncoding.Strict()

// DecodeSignature decodes a Sig value (NAME:BASE64) into sig and reports
// whether it is a valid signature, accepting exactly what
// [ParseSignature] accepts, without allocating.
func DecodeSignature(sig *[signatureLen]byte, text []byte) bool {
	name, b64, ok := bytes.Cut(text, []byte(":"))
	if !ok || len(name) == 0 || len(name) > MaxNameLen || bytes.ContainsAny(text, "\r\n") {
		return false
	}
	for _, c := range name {
		if !nameByteOK(c) {
			return false
		}
	}
	// Strict padded base64 of 64 bytes is 88 characters; its decoded
	// length bound is 66.
	if len(b64) != base64.StdEncoding.EncodedLen(signatureLen) {
		return false
	}
	var raw [66]byte
	n, err := strictBase64.Decode(raw[:], b64)
	if err != nil || n != signatureLen {
		return false
	}
	copy(sig[:], raw[:n])
	return true
}
