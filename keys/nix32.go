package keys

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// nix32Alphabet is Nix's base-32 alphabet (no e, o, t, u).
const nix32Alphabet = "0123456789abcdfghijklmnpqrsvwxyz"

const sha256Len = 32

// nix32Len is the length of the nix32 encoding of n bytes (52 for SHA-256).
func nix32Len(n int) int {
	if n == 0 {
		return 0
	}
	return (n*8-1)/5 + 1
}

// encodeNix32 is Nix's printHash32: the bits are read from the end of the
// hash, so the first character holds the most significant bits of the last
// byte.
func encodeNix32(hash []byte) string {
	n := nix32Len(len(hash))
	out := make([]byte, 0, n)
	for k := n - 1; k >= 0; k-- {
		b := uint(k * 5)
		i, j := b/8, b%8
		c := hash[i] >> j
		if int(i) < len(hash)-1 {
			c |= hash[i+1] << (8 - j)
		}
		out = append(out, nix32Alphabet[c&0x1f])
	}
	return string(out)
}

// decodeNix32 is the inverse of encodeNix32 for a hash of size bytes. Like
// Nix, it rejects characters outside the alphabet and encodings whose
// leading character carries bits beyond the hash size, so every accepted
// string is canonical.
func decodeNix32(s string, size int) ([]byte, error) {
	if len(s) != nix32Len(size) {
		return nil, fmt.Errorf("nix32 text has %d characters, want %d", len(s), nix32Len(size))
	}
	out := make([]byte, size)
	for n := 0; n < len(s); n++ {
		c := s[len(s)-n-1]
		d := strings.IndexByte(nix32Alphabet, c)
		if d < 0 {
			return nil, fmt.Errorf("character %q is not in the nix32 alphabet %s", c, nix32Alphabet)
		}
		b := uint(n * 5)
		i, j := b/8, b%8
		out[i] |= byte(uint(d) << j)
		carry := uint(d) >> (8 - j)
		if int(i) < size-1 {
			out[i+1] |= byte(carry)
		} else if carry != 0 {
			return nil, fmt.Errorf("nix32 text overflows %d bytes (first character too large)", size)
		}
	}
	return out, nil
}

// NormalizeNarHash converts a SHA-256 NAR hash in any form Nix prints to
// the "sha256:<nix32>" form used in narinfo files and signature
// fingerprints. Accepted: "sha256:" followed by nix32 (52 characters),
// base16 (64 hex digits) or padded base64 (44 characters), and SRI
// "sha256-<base64>" as printed by `nix path-info --json`. Errors wrap
// [ErrBadHash].
func NormalizeNarHash(h string) (string, error) {
	sum, err := parseSHA256(h)
	if err != nil {
		return "", err
	}
	return "sha256:" + encodeNix32(sum), nil
}

func parseSHA256(h string) ([]byte, error) {
	algo, rest, sri := "", "", false
	if i := strings.IndexAny(h, ":-"); i >= 0 {
		algo, rest, sri = h[:i], h[i+1:], h[i] == '-'
	}
	if algo == "" {
		return nil, newError(ErrBadHash, fmt.Sprintf("hash %q has no type prefix: expected sha256:<nix32>, sha256:<hex> or sha256-<base64>", h))
	}
	if algo != "sha256" {
		return nil, newError(ErrBadHash, fmt.Sprintf("hash %q is not a sha256 hash: NAR hashes must be sha256", h))
	}
	if sri {
		sum, err := base64.StdEncoding.Strict().DecodeString(rest)
		if err != nil || len(sum) != sha256Len {
			return nil, newError(ErrBadHash, fmt.Sprintf("hash %q is not a valid SRI sha256 hash: expected sha256- followed by 44 base64 characters", h))
		}
		return sum, nil
	}
	var (
		sum []byte
		err error
	)
	switch len(rest) {
	case nix32Len(sha256Len):
		sum, err = decodeNix32(rest, sha256Len)
	case hex.EncodedLen(sha256Len):
		if sum, err = hex.DecodeString(rest); err != nil {
			err = errors.New("64 characters but not all hex digits")
		}
	case base64.StdEncoding.EncodedLen(sha256Len):
		if sum, err = base64.StdEncoding.Strict().DecodeString(rest); err != nil || len(sum) != sha256Len {
			err = errors.New("44 characters but not padded base64 of 32 bytes")
		}
	default:
		return nil, newError(ErrBadHash, fmt.Sprintf(
			"hash %q has %d characters after 'sha256:', want 52 (nix32), 64 (hex) or 44 (base64)", h, len(rest)))
	}
	if err != nil {
		return nil, newError(ErrBadHash, fmt.Sprintf("hash %q is not valid: %v", h, err))
	}
	return sum, nil
}

// isNix32SHA256 reports whether h is exactly "sha256:" + canonical nix32.
func isNix32SHA256(h string) bool {
	rest, ok := strings.CutPrefix(h, "sha256:")
	if !ok || len(rest) != nix32Len(sha256Len) {
		return false
	}
	_, err := decodeNix32(rest, sha256Len)
	return err == nil
}

// Store paths.

const (
	storeHashLen   = 32
	maxStoreName   = 211
	storePathChars = "+-._?="
)

// checkStoreBase checks a store path base name "HASH-NAME" the way Nix
// does (32 nix32 characters, '-', a name of 1 to 211 characters from
// A-Z a-z 0-9 + - . _ ? =).
func checkStoreBase(base string) error {
	if len(base) < storeHashLen+2 || base[storeHashLen] != '-' {
		return newError(ErrBadStorePath, fmt.Sprintf("store path name %q is not HASH-NAME with a 32-character hash", base))
	}
	for i := 0; i < storeHashLen; i++ {
		if strings.IndexByte(nix32Alphabet, base[i]) < 0 {
			return newError(ErrBadStorePath, fmt.Sprintf("store path name %q has character %q in its hash, which is not in the nix32 alphabet", base, base[i]))
		}
	}
	name := base[storeHashLen+1:]
	if len(name) > maxStoreName {
		return newError(ErrBadStorePath, fmt.Sprintf("store path name %q has a name longer than %d characters", base, maxStoreName))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(storePathChars, c) >= 0) {
			return newError(ErrBadStorePath, fmt.Sprintf("store path name %q has illegal character %q", base, c))
		}
	}
	return nil
}

// splitStorePath splits a full store path into its store directory and base
// name and checks both.
func splitStorePath(p string) (dir, base string, err error) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 || p[0] != '/' {
		return "", "", newError(ErrBadStorePath, fmt.Sprintf("store path %q is not an absolute path like /nix/store/HASH-NAME", p))
	}
	dir, base = p[:i], p[i+1:]
	for _, seg := range strings.Split(dir[1:], "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, ";,\n") {
			return "", "", newError(ErrBadStorePath, fmt.Sprintf("store path %q has a malformed store directory", p))
		}
	}
	if err := checkStoreBase(base); err != nil {
		return "", "", err
	}
	return dir, base, nil
}
