package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SecretKey is a Nix binary-cache signing key. The key material is not
// exported; get its text form with [SecretKey.Encode]. Printing a SecretKey
// with fmt (any verb, value or pointer) shows only its name.
//
// The zero SecretKey has no key material; use [Generate] or
// [ParseSecretKey] to obtain one. Methods other than the printing ones
// panic on a SecretKey without key material.
type SecretKey struct {
	Name string
	// key returns seed || public key (64 bytes). It is a closure rather
	// than a slice because fmt's reflection-based printing (used for
	// unexported fields of enclosing structs, and for bad verbs) prints a
	// func as an address, never as the bytes it captures.
	key func() ed25519.PrivateKey
}

func newSecretKey(name string, priv ed25519.PrivateKey) *SecretKey {
	return &SecretKey{Name: name, key: func() ed25519.PrivateKey { return priv }}
}

// PublicKey is a Nix binary-cache public key, as listed in
// trusted-public-keys.
type PublicKey struct {
	Name string
	Key  ed25519.PublicKey
}

const (
	publicKeyLen = ed25519.PublicKeySize  // 32
	secretKeyLen = ed25519.PrivateKeySize // 64
	signatureLen = ed25519.SignatureSize  // 64
)

// Generate makes a new key pair named name, reading the 32-byte seed from
// rand (callers pass crypto/rand.Reader; tests may pass a deterministic
// reader). The name must pass [ValidateName].
func Generate(name string, rand io.Reader) (*SecretKey, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if rand == nil {
		return nil, errors.New("generate key: rand is nil: pass crypto/rand.Reader")
	}
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("generate key %q: read random seed: %w", name, err)
	}
	return newSecretKey(name, priv), nil
}

func (s *SecretKey) priv() ed25519.PrivateKey {
	if s == nil || s.key == nil {
		panic("keys: SecretKey has no key material; use Generate or ParseSecretKey")
	}
	return s.key()
}

// Public returns the public key that belongs to s, with the same name.
func (s *SecretKey) Public() *PublicKey {
	pub := s.priv().Public().(ed25519.PublicKey)
	return &PublicKey{Name: s.Name, Key: bytes.Clone(pub)}
}

// Equal reports whether s and o have the same name and key material, in
// constant time with respect to the key bytes. Two nil keys are equal.
func (s *SecretKey) Equal(o *SecretKey) bool {
	if s == nil || o == nil {
		return s == o
	}
	return s.Name == o.Name && subtle.ConstantTimeCompare(s.priv(), o.priv()) == 1
}

// Encode returns the Nix text form of s, "NAME:BASE64(seed || public key)",
// without a trailing newline, exactly as `nix key generate-secret` prints
// it. The result is secret: write it only to a private (0600) file.
func (s *SecretKey) Encode() []byte {
	priv := s.priv()
	out := make([]byte, 0, len(s.Name)+1+base64.StdEncoding.EncodedLen(len(priv)))
	out = append(out, s.Name...)
	out = append(out, ':')
	return base64.StdEncoding.AppendEncode(out, priv)
}

const redacted = "<secret key redacted>"

// String returns "NAME:<secret key redacted>"; it never reveals the key.
func (s SecretKey) String() string { return s.Name + ":" + redacted }

// GoString returns a Go-syntax-like form without the key material, so %#v
// is safe too.
func (s SecretKey) GoString() string {
	return fmt.Sprintf("keys.SecretKey{Name:%q, key:%s}", s.Name, redacted)
}

// Format makes every fmt verb print the redacted form: %#v uses GoString,
// %q quotes String, and all other verbs print String.
func (s SecretKey) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, s.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", s.String())
	default:
		io.WriteString(f, s.String())
	}
}

// Sign signs msg with s. Ed25519 is deterministic, so the result matches
// what Nix produces for the same key and message.
func (s *SecretKey) Sign(msg []byte) *Signature {
	return &Signature{KeyName: s.Name, Sig: ed25519.Sign(s.priv(), msg)}
}

// String returns "NAME:BASE64", exactly as `nix key convert-secret-to-public`
// prints it (without a trailing newline).
func (p *PublicKey) String() string {
	return p.Name + ":" + base64.StdEncoding.EncodeToString(p.Key)
}

// Verify reports whether sig is a valid signature of msg by p. It is false
// if sig is nil, if sig.KeyName differs from p.Name, or if p or sig have
// the wrong length.
func (p *PublicKey) Verify(msg []byte, sig *Signature) bool {
	if p == nil || sig == nil || sig.KeyName != p.Name {
		return false
	}
	if len(p.Key) != publicKeyLen || len(sig.Sig) != signatureLen {
		return false
	}
	return ed25519.Verify(p.Key, msg, sig.Sig)
}

// Fingerprint returns "SHA256:" followed by the unpadded base64 SHA-256 of
// the 32 key bytes, in the style of `ssh-keygen -l`. The name is not part
// of the fingerprint.
func (p *PublicKey) Fingerprint() string {
	sum := sha256.Sum256(p.Key)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// Equal reports whether p and o have the same name and key bytes. Two nil
// keys are equal.
func (p *PublicKey) Equal(o *PublicKey) bool {
	if p == nil || o == nil {
		return p == o
	}
	return p.Name == o.Name && bytes.Equal(p.Key, o.Key)
}

// ParseSecretKey parses a Nix secret key "NAME:BASE64" as written by
// `nix key generate-secret`; one trailing "\n" is tolerated. It checks that
// the stored public half matches the one derived from the seed (Lix does,
// Nix 2.8 does not). Errors never contain any of the key material and show
// the name only once the key has decoded cleanly.
func ParseSecretKey(s string) (*SecretKey, error) {
	const what = "secret key"
	name, raw, err := parseKeyText(s, what, true, false)
	if err != nil {
		return nil, err
	}
	switch len(raw) {
	case secretKeyLen:
	case publicKeyLen:
		return nil, newError(ErrPublicKeyGiven, fmt.Sprintf(
			"secret key %q: a public key was given where a secret key belongs (32 bytes, want 64): pass the secret key made by 'nix key generate-secret'", name))
	default:
		return nil, newError(ErrBadLength, fmt.Sprintf(
			"secret key has %d bytes, want 64 (32-byte seed followed by 32-byte public key): the key is truncated or not a Nix secret key", len(raw)))
	}
	priv := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
	if subtle.ConstantTimeCompare(priv[ed25519.SeedSize:], raw[ed25519.SeedSize:]) != 1 {
		return nil, newError(ErrKeyMismatch, fmt.Sprintf(
			"secret key %q is not valid: its stored public half does not match the one derived from its seed; regenerate the key", name))
	}
	return newSecretKey(name, priv), nil
}

// ParsePublicKey parses a Nix public key "NAME:BASE64" as printed by
// `nix key convert-secret-to-public`; one trailing "\n" is tolerated. Given a
// secret key it returns an error wrapping [ErrSecretKeyGiven] that does not
// echo the key.
func ParsePublicKey(s string) (*PublicKey, error) {
	const what = "public key"
	name, raw, err := parseKeyText(s, what, true, true)
	if err != nil {
		return nil, err
	}
	switch len(raw) {
	case publicKeyLen:
	case secretKeyLen:
		return nil, newError(ErrSecretKeyGiven, fmt.Sprintf(
			"public key %q: a secret key was given where a public key belongs (64 bytes, want 32): keep it private and use its public key (nix key convert-secret-to-public)", name))
	default:
		return nil, newError(ErrBadLength, fmt.Sprintf(
			"public key %q has %d bytes, want 32: the key is truncated or not a Nix public key", name, len(raw)))
	}
	return &PublicKey{Name: name, Key: ed25519.PublicKey(raw)}, nil
}

// parseKeyText splits "NAME:BASE64" and decodes BASE64. what names the
// thing being parsed in error messages ("secret key", "public key",
// "signature"). If showName is false, the name is left out of every error
// (the caller shows it once the value has decoded cleanly). Nothing of the
// BASE64 part is ever put in an error.
func parseKeyText(s, what string, trimNL, showName bool) (name string, raw []byte, err error) {
	if trimNL {
		s = strings.TrimSuffix(s, "\n")
	}
	if strings.IndexByte(s, '\r') >= 0 {
		return "", nil, newError(ErrLineBreak, what+" contains a carriage return: remove Windows (CRLF) line endings")
	}
	if strings.IndexByte(s, '\n') >= 0 {
		return "", nil, newError(ErrLineBreak, what+" contains a line break: expected a single NAME:BASE64 line")
	}
	name, b64, ok := strings.Cut(s, ":")
	if !ok {
		return "", nil, missingSeparator(s, what)
	}
	if name == "" {
		return "", nil, newError(ErrEmptyName, what+" has an empty name before ':': expected NAME:BASE64, e.g. cache.example.org-1:BASE64")
	}
	if err := ValidateName(name); err != nil {
		return "", nil, newError2(ErrInvalidName, err, what+": "+err.Error())
	}
	label := what
	if showName {
		label = fmt.Sprintf("%s %q", what, name)
	}
	if b64 == "" {
		return "", nil, newError(ErrEmptyKey, label+" has nothing after ':': expected NAME:BASE64")
	}
	raw, err = base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return "", nil, newError(ErrBadBase64, label+" is not valid base64: "+base64Problem(b64))
	}
	return name, raw, nil
}

// missingSeparator explains a NAME:BASE64 string without ':' and, when the
// whole string decodes to a key, says which kind of key it looks like.
// It never echoes s.
func missingSeparator(s, what string) error {
	raw, err := base64.StdEncoding.Strict().DecodeString(s)
	if err == nil {
		switch {
		case len(raw) == secretKeyLen && what == "public key":
			return newError2(ErrSecretKeyGiven, ErrMissingSeparator,
				"public key has no name, and a secret key was given where a public key belongs: keep it private and use its public key (nix key convert-secret-to-public)")
		case len(raw) == publicKeyLen && what == "secret key":
			return newError2(ErrPublicKeyGiven, ErrMissingSeparator,
				"secret key has no name, and a public key was given where a secret key belongs: pass the secret key made by 'nix key generate-secret'")
		case len(raw) == publicKeyLen && what == "public key",
			len(raw) == secretKeyLen && what == "secret key",
			len(raw) == signatureLen && what == "signature":
			return newError(ErrMissingSeparator, what+" has no name: expected NAME:BASE64, e.g. cache.example.org-1:BASE64")
		}
	}
	return newError(ErrMissingSeparator, what+" has no ':' between name and key: expected NAME:BASE64")
}

// base64Problem describes why b is not canonical padded standard base64,
// without quoting any of it.
func base64Problem(b string) string {
	if strings.ContainsAny(b, "-_") {
		return "it uses the URL-safe alphabet ('-' or '_'): use standard base64 (A-Z a-z 0-9 + /)"
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c == '=' || c == '+' || c == '/' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return fmt.Sprintf("byte %d after ':' is not a base64 character: use standard base64 (A-Z a-z 0-9 + /) with '=' padding", i)
		}
	}
	if len(b)%4 != 0 {
		return fmt.Sprintf("its length %d is not a multiple of 4: '=' padding is missing or the text is truncated", len(b))
	}
	if i := strings.IndexByte(b, '='); i >= 0 && (len(b)-i > 2 || strings.Trim(b[i:], "=") != "") {
		return "'=' padding appears before the end: the text is corrupt"
	}
	return "it is not canonical (non-zero padding bits): the text is corrupt"
}
