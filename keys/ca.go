package keys

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// ContentAddressed reports whether n's store path is the one its CA field
// (content address) and references determine, as Nix's
// ValidPathInfo::isContentAddressed computes it. Nix accepts such a path
// without any signature. It is false without a CA field, and false with
// an error saying why when the CA field is malformed or claims an address
// the path does not have (a tampered or wrong narinfo).
func (n *Narinfo) ContentAddressed() (bool, error) {
	if n.CA == "" {
		return false, nil
	}
	dir, base, err := splitStorePath(n.StorePath)
	if err != nil {
		return false, err
	}
	name := base[storeHashLen+1:]
	refs := make([]string, 0, len(n.References))
	self := false
	for _, r := range n.References {
		if r == base {
			self = true
			continue
		}
		refs = append(refs, dir+"/"+r)
	}
	slices.Sort(refs)
	refs = slices.Compact(refs)
	var want string
	switch {
	case strings.HasPrefix(n.CA, "text:"):
		algo, sum, err := parseCAHash(n.CA[len("text:"):])
		if err != nil {
			return false, fmt.Errorf("CA %.80q: %w", n.CA, err)
		}
		if algo != "sha256" {
			return false, fmt.Errorf("CA %.80q: text content addresses are sha256", n.CA)
		}
		// Text paths keep every reference, a self-reference included.
		all := refs
		if self {
			all = append(slices.Clone(refs), n.StorePath)
			slices.Sort(all)
		}
		want = makeStorePath(makeType("text", all, false), algo, sum, dir, name)
	case strings.HasPrefix(n.CA, "fixed:"):
		rest := n.CA[len("fixed:"):]
		recursive := strings.HasPrefix(rest, "r:")
		if recursive {
			rest = rest[len("r:"):]
		}
		algo, sum, err := parseCAHash(rest)
		if err != nil {
			return false, fmt.Errorf("CA %.80q: %w", n.CA, err)
		}
		if recursive && algo == "sha256" {
			want = makeStorePath(makeType("source", refs, self), algo, sum, dir, name)
			break
		}
		if len(refs) > 0 || self {
			return false, fmt.Errorf("CA %.80q: a flat or non-sha256 fixed-output path cannot have references", n.CA)
		}
		prefix := ""
		if recursive {
			prefix = "r:"
		}
		inner := sha256.Sum256([]byte("fixed:out:" + prefix + algo + ":" + hex.EncodeToString(sum) + ":"))
		want = makeStorePath("output:out", "sha256", inner[:], dir, name)
	default:
		return false, fmt.Errorf("CA %.80q is neither text: nor fixed:", n.CA)
	}
	if want != n.StorePath {
		return false, fmt.Errorf("path %s claims content address %.80q, which gives %s", n.StorePath, n.CA, want)
	}
	return true, nil
}

// makeType is Nix's makeType: TYPE:REF1:REF2...[:self], references sorted.
func makeType(typ string, refs []string, self bool) string {
	var b strings.Builder
	b.WriteString(typ)
	for _, r := range refs {
		b.WriteByte(':')
		b.WriteString(r)
	}
	if self {
		b.WriteString(":self")
	}
	return b.String()
}

// makeStorePath is Nix's makeStorePath: the SHA-256 of
// "TYPE:ALGO:HEX:STOREDIR:NAME", folded to 20 bytes, in nix32.
func makeStorePath(typ, algo string, sum []byte, dir, name string) string {
	h := sha256.Sum256([]byte(typ + ":" + algo + ":" + hex.EncodeToString(sum) + ":" + dir + ":" + name))
	var folded [20]byte
	for i, c := range h {
		folded[i%20] ^= c
	}
	return dir + "/" + encodeNix32(folded[:]) + "-" + name
}

var caHashSizes = map[string]int{"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}

// parseCAHash parses "ALGO:DIGEST" with the digest in nix32, hex or
// base64, as Nix's Hash::parseAnyPrefixed does for content addresses.
func parseCAHash(s string) (string, []byte, error) {
	algo, digest, ok := strings.Cut(s, ":")
	size, known := caHashSizes[algo]
	if !ok || !known {
		return "", nil, fmt.Errorf("hash type %.20q is not md5, sha1, sha256 or sha512", algo)
	}
	switch len(digest) {
	case nix32Len(size):
		sum, err := decodeNix32(digest, size)
		return algo, sum, err
	case hex.EncodedLen(size):
		sum, err := hex.DecodeString(digest)
		return algo, sum, err
	case base64.StdEncoding.EncodedLen(size):
		sum, err := base64.StdEncoding.Strict().DecodeString(digest)
		if err == nil && len(sum) != size {
			err = fmt.Errorf("base64 digest is %d bytes, want %d", len(sum), size)
		}
		return algo, sum, err
	}
	return "", nil, fmt.Errorf("%s digest has %d characters: not nix32, hex or base64 of %d bytes", algo, len(digest), size)
}
