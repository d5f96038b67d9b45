package nixconf

import (
	"fmt"
	"strings"
)

// NixKeyProblem says why Nix could not use s as a trusted public key, or
// returns "" when it can. It follows Nix's own, lenient parsing (split at
// the first ':', both parts non-empty; base64 where '=' ends the data,
// padding is optional and a bad character is an error; 32 bytes), not
// keyform's stricter rules for keys it writes. One such entry in
// trusted-public-keys makes Nix fail every signature check.
func NixKeyProblem(s string) string {
	name, b64, ok := strings.Cut(s, ":")
	if !ok || name == "" || b64 == "" {
		return "it is not NAME:BASE64 (Nix: \"secret key is corrupt\")"
	}
	bits, n := 0, 0
	for i := 0; i < len(b64); i++ {
		c := b64[i]
		if c == '=' {
			break
		}
		if c == '\n' {
			continue
		}
		if !(c == '+' || c == '/' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return fmt.Sprintf("byte %d after ':' is not base64 (Nix: \"invalid character in Base64 string\")", i)
		}
		bits += 6
		if bits >= 8 {
			bits -= 8
			n++
		}
	}
	if n != 32 {
		return fmt.Sprintf("it decodes to %d bytes, not 32 (Nix: \"public key is not valid\")", n)
	}
	return ""
}
