package keys

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// NarFingerprint builds the text Nix signs for a store path:
//
//	1;STOREPATH;NARHASH;NARSIZE;REF1,REF2,...
//
// storePath and refs are full store paths in one store directory; refs are
// sorted and de-duplicated here (Nix keeps them in a set), and the caller's
// slice is not modified. narHash must be "sha256:<nix32>" (use
// [NormalizeNarHash] to convert other forms) and narSize must be non-zero,
// as Nix refuses to fingerprint a path of unknown size. With no references
// the fingerprint ends in ';'.
func NarFingerprint(storePath, narHash string, narSize uint64, refs []string) (string, error) {
	dir, _, err := splitStorePath(storePath)
	if err != nil {
		return "", err
	}
	if !isNix32SHA256(narHash) {
		return "", newError(ErrBadHash, fmt.Sprintf(
			"NAR hash %q is not in sha256:<nix32> form: convert it with NormalizeNarHash", narHash))
	}
	if narSize == 0 {
		return "", newError(ErrBadNarinfo, fmt.Sprintf(
			"NAR size of %q is 0: Nix cannot sign or verify a path of unknown size", storePath))
	}
	sorted := slices.Clone(refs)
	for _, r := range sorted {
		rdir, _, err := splitStorePath(r)
		if err != nil {
			return "", fmt.Errorf("reference of %q: %w", storePath, err)
		}
		if rdir != dir {
			return "", newError(ErrBadStorePath, fmt.Sprintf(
				"reference %q of %q is not in store directory %q: references must be full paths in the same store", r, storePath, dir))
		}
	}
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var b strings.Builder
	b.WriteString("1;")
	b.WriteString(storePath)
	b.WriteByte(';')
	b.WriteString(narHash)
	b.WriteByte(';')
	b.WriteString(strconv.FormatUint(narSize, 10))
	b.WriteByte(';')
	b.WriteString(strings.Join(sorted, ","))
	return b.String(), nil
}

// Narinfo holds the fields of a .narinfo file that signing needs. Other
// fields (Compression, FileHash, FileSize, System, ...) are ignored.
type Narinfo struct {
	StorePath  string   // full store path
	URL        string   // NAR location relative to the cache
	NarHash    string   // always "sha256:<nix32>" after parsing
	NarSize    uint64   // non-zero
	References []string // base names (HASH-NAME), as in the file; nil if none
	Deriver    string   // base name; "" if absent or "unknown-deriver"
	CA         string   // content address, "" if not content-addressed
	Sigs       []string // "Sig:" values in file order; nil if none
}

// Limits on narinfo text, so that a hostile cache cannot make a reader
// allocate or verify without bound. Real narinfos are a few hundred bytes
// with one or two signatures; the largest closures have a few thousand
// references (about 60 bytes each).
const (
	// MaxNarinfoSize is the largest narinfo ParseNarinfo accepts, in bytes.
	MaxNarinfoSize = 1 << 20
	// MaxNarinfoSigs is the most Sig lines ParseNarinfo accepts: each may
	// cost a signature check.
	MaxNarinfoSigs = 64
	// maxQuoted is how much of a value an error message quotes.
	maxQuoted = 80
)

// ParseNarinfo parses .narinfo text: "Name: value" lines, each ended by
// "\n" (a missing final newline is tolerated). StorePath, URL, NarHash and
// a non-zero NarSize are required; unknown fields are ignored; "Sig" may
// repeat (at most [MaxNarinfoSigs] times) but no other known field may.
// NarHash may be sha256:<nix32>, sha256:<hex>, sha256:<base64> or SRI
// sha256-<base64> and is normalised to sha256:<nix32>. Sig values are kept
// as text (and checked only by [PublicKey.VerifyNarinfo]) so that a
// malformed signature by another key does not hide a good one. Text longer
// than [MaxNarinfoSize] is refused. Errors wrap [ErrBadNarinfo] and, where
// it applies, [ErrBadHash] or [ErrBadStorePath]; they are one line and
// quote at most a short prefix of any value, whatever the input.
func ParseNarinfo(text []byte) (*Narinfo, error) {
	n := &Narinfo{}
	if len(text) == 0 {
		return nil, newError(ErrBadNarinfo, "narinfo is empty: expected Name: value lines with StorePath, URL, NarHash and NarSize")
	}
	if len(text) > MaxNarinfoSize {
		return nil, newError(ErrBadNarinfo, fmt.Sprintf("narinfo is %d bytes, more than the limit of %d: it is not a narinfo Nix wrote", len(text), MaxNarinfoSize))
	}
	if i := bytes.IndexByte(text, '\r'); i >= 0 {
		return nil, newError(ErrBadNarinfo, "narinfo contains a carriage return: remove Windows (CRLF) line endings")
	}
	body := string(text)
	body = strings.TrimSuffix(body, "\n")
	// Line numbers of the fields that may appear once; 0 = not seen.
	var seen [7]int
	for lineNo := 1; ; lineNo++ {
		line, rest, more := strings.Cut(body, "\n")
		body = rest
		bad := func(kind error, format string, args ...any) error {
			msg := clipMessage(fmt.Sprintf("narinfo line %d: ", lineNo) + fmt.Sprintf(format, args...))
			if kind == ErrBadNarinfo {
				return newError(ErrBadNarinfo, msg)
			}
			return newError2(ErrBadNarinfo, kind, msg)
		}
		wrap := func(field string, err error) error {
			return &kindError{
				msg:   clipMessage(fmt.Sprintf("narinfo line %d: %s: %v", lineNo, field, err)),
				kinds: []error{ErrBadNarinfo, err},
			}
		}
		if line == "" {
			return nil, bad(ErrBadNarinfo, "empty line: every line must be Name: value")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, bad(ErrBadNarinfo, "no ':' in %s: every line must be Name: value", quoteClipped(line))
		}
		if name == "" {
			return nil, bad(ErrBadNarinfo, "empty field name before ':'")
		}
		if value != "" {
			if value[0] != ' ' {
				return nil, bad(ErrBadNarinfo, "field %s has no space after ':': write %s: value", quoteClipped(name), quoteClipped(name))
			}
			value = value[1:]
		}
		if slot := onceField(name); slot >= 0 {
			if prev := seen[slot]; prev != 0 {
				return nil, bad(ErrBadNarinfo, "field %s repeats the one on line %d: keep only one", name, prev)
			}
			seen[slot] = lineNo
		}
		switch name {
		case "StorePath":
			if _, _, err := splitStorePath(value); err != nil {
				return nil, wrap(name, err)
			}
			n.StorePath = value
		case "URL":
			if value == "" {
				return nil, bad(ErrBadNarinfo, "URL is empty: it must name the NAR file, e.g. nar/HASH.nar")
			}
			n.URL = value
		case "NarHash":
			h, err := NormalizeNarHash(value)
			if err != nil {
				return nil, wrap(name, err)
			}
			n.NarHash = h
		case "NarSize":
			size, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				return nil, bad(ErrBadNarinfo, "NarSize %s is not a decimal number of bytes", quoteClipped(value))
			}
			if size == 0 {
				return nil, bad(ErrBadNarinfo, "NarSize is 0: it must be the NAR's size in bytes")
			}
			n.NarSize = size
		case "References":
			// Like Nix: split on single spaces, skipping empty tokens.
			for ref := range strings.SplitSeq(value, " ") {
				if ref == "" {
					continue
				}
				if err := checkStoreBase(ref); err != nil {
					return nil, wrap(name, err)
				}
				n.References = append(n.References, ref)
			}
		case "Deriver":
			if value == "unknown-deriver" {
				break
			}
			if err := checkStoreBase(value); err != nil {
				return nil, wrap(name, err)
			}
			n.Deriver = value
		case "CA":
			if value == "" {
				return nil, bad(ErrBadNarinfo, "CA is empty: omit the line for paths that are not content-addressed")
			}
			n.CA = value
		case "Sig":
			if value == "" {
				return nil, bad(ErrBadNarinfo, "Sig is empty: expected Sig: NAME:BASE64")
			}
			if len(n.Sigs) == MaxNarinfoSigs {
				return nil, bad(ErrBadNarinfo, "more than %d Sig lines: a narinfo Nix wrote has one per signing key", MaxNarinfoSigs)
			}
			n.Sigs = append(n.Sigs, value)
		}
		if !more {
			break
		}
	}
	var missing []string
	if n.StorePath == "" {
		missing = append(missing, "StorePath")
	}
	if n.URL == "" {
		missing = append(missing, "URL")
	}
	if n.NarHash == "" {
		missing = append(missing, "NarHash")
	}
	if n.NarSize == 0 {
		missing = append(missing, "NarSize")
	}
	if len(missing) > 0 {
		return nil, newError(ErrBadNarinfo, "narinfo lacks required field(s) "+strings.Join(missing, ", ")+": StorePath, URL, NarHash and NarSize are required")
	}
	return n, nil
}

// onceField returns the slot of a field that may appear only once, or -1.
func onceField(name string) int {
	switch name {
	case "StorePath":
		return 0
	case "URL":
		return 1
	case "NarHash":
		return 2
	case "NarSize":
		return 3
	case "References":
		return 4
	case "Deriver":
		return 5
	case "CA":
		return 6
	}
	return -1
}

// quoteClipped quotes s (with %q, so control characters and invalid UTF-8
// are escaped), keeping at most maxQuoted bytes of it.
func quoteClipped(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxQuoted]) + fmt.Sprintf("... (%d bytes)", len(s))
}

// clipMessage bounds an error message built from hostile input: errors
// from the hash and store path checks quote whole values.
func clipMessage(msg string) string {
	const max = 400
	if len(msg) <= max {
		return msg
	}
	return strings.ToValidUTF8(msg[:max], "") + "... (message cut)"
}

// encode writes the fields Narinfo models, in Nix's order. The result is
// not a complete narinfo for serving (Compression and FileHash are not
// kept), but it parses back to an equal Narinfo.
func (n *Narinfo) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "StorePath: %s\n", n.StorePath)
	fmt.Fprintf(&b, "URL: %s\n", n.URL)
	fmt.Fprintf(&b, "NarHash: %s\n", n.NarHash)
	fmt.Fprintf(&b, "NarSize: %d\n", n.NarSize)
	fmt.Fprintf(&b, "References: %s\n", strings.Join(n.References, " "))
	if n.Deriver != "" {
		fmt.Fprintf(&b, "Deriver: %s\n", n.Deriver)
	}
	for _, s := range n.Sigs {
		fmt.Fprintf(&b, "Sig: %s\n", s)
	}
	if n.CA != "" {
		fmt.Fprintf(&b, "CA: %s\n", n.CA)
	}
	return b.Bytes()
}

// Fingerprint returns the text that narinfo signatures sign (see
// [NarFingerprint]); the references are made full paths by prefixing the
// store directory of StorePath. NarHash may be in any form
// [NormalizeNarHash] accepts (ParseNarinfo already normalises it).
func (n *Narinfo) Fingerprint() (string, error) {
	dir, _, err := splitStorePath(n.StorePath)
	if err != nil {
		return "", err
	}
	narHash, err := NormalizeNarHash(n.NarHash)
	if err != nil {
		return "", err
	}
	refs := make([]string, len(n.References))
	for i, r := range n.References {
		refs[i] = dir + "/" + r
	}
	return NarFingerprint(n.StorePath, narHash, n.NarSize, refs)
}

// SignNarinfo signs n's fingerprint with s. It does not modify n: append
// sig.String() to n.Sigs, or write it as a "Sig: " line, to publish it.
func (s *SecretKey) SignNarinfo(n *Narinfo) (*Signature, error) {
	fp, err := n.Fingerprint()
	if err != nil {
		return nil, err
	}
	return s.Sign([]byte(fp)), nil
}

// VerifyNarinfo reports whether any of n's signatures by a key named p.Name
// verifies with p. Signatures by other keys are ignored, as Nix does. If no
// signature verifies and one named p.Name is malformed, it returns false
// and an error describing it.
func (p *PublicKey) VerifyNarinfo(n *Narinfo) (bool, error) {
	fp, err := n.Fingerprint()
	if err != nil {
		return false, err
	}
	var malformed error
	for _, text := range n.Sigs {
		name, _, _ := strings.Cut(text, ":")
		if name != p.Name {
			continue
		}
		sig, err := ParseSignature(text)
		if err != nil {
			if malformed == nil {
				malformed = fmt.Errorf("narinfo for %s has a malformed signature by %q: %w", n.StorePath, p.Name, err)
			}
			continue
		}
		if p.Verify([]byte(fp), sig) {
			return true, nil
		}
	}
	return false, malformed
}
