package keys

import (
	"encoding/base64"
	"fmt"
)

// Signature is a detached ed25519 signature made by the key named KeyName,
// as found in a narinfo "Sig:" line.
type Signature struct {
	KeyName string
	Sig     []byte // 64 bytes
}

// String returns "NAME:BASE64(signature)", the value of a narinfo "Sig:"
// line.
func (s *Signature) String() string {
	return s.KeyName + ":" + base64.StdEncoding.EncodeToString(s.Sig)
}

// ParseSignature parses "NAME:BASE64" with a 64-byte signature. The name
// must pass [ValidateName]; no trailing newline is accepted.
func ParseSignature(s string) (*Signature, error) {
	name, raw, err := parseKeyText(s, "signature", false, true)
	if err != nil {
		return nil, err
	}
	if len(raw) != signatureLen {
		return nil, newError(ErrBadLength, fmt.Sprintf(
			"signature %q has %d bytes, want 64: the signature is truncated or not an ed25519 signature", name, len(raw)))
	}
	return &Signature{KeyName: name, Sig: raw}, nil
}
