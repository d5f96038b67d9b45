package policy

import (
	"errors"
	"strings"
)

// The rules below are what can be said about a publisher's recipient from
// its text alone. Whether it is a public key age can encrypt to is the
// seal package's business (seal.ParseRecipient), so that loading a policy
// does not need the age library.

// CheckRecipientText refuses text that is no recipient whatever its type:
// empty, padded, secret or spread over several lines. seal.ParseRecipient
// starts with these checks; schema makes them even when it is given no
// parser. The error never echoes the text.
func CheckRecipientText(s string) error {
	switch {
	case s == "":
		return errors.New("the recipient is empty")
	case strings.TrimSpace(s) != s:
		return errors.New("the recipient has leading or trailing whitespace")
	case RecipientLooksSecret(s):
		return errors.New("this is a private key (an age identity or SSH private key), not a recipient: remove it from the policy now and treat it as leaked; a recipient is the public half, printed by \"age-keygen -y\" or found in ~/.ssh/id_ed25519.pub")
	case strings.ContainsAny(s, "\n\r"):
		return errors.New("the recipient spans several lines; give one public key per list element")
	}
	return nil
}

// RecipientLooksSecret reports whether s looks like private key material
// (an age identity, a plugin identity or a PEM/OpenSSH private key) pasted
// where a recipient belongs.
func RecipientLooksSecret(s string) bool {
	u := strings.ToUpper(strings.TrimSpace(s))
	return strings.HasPrefix(u, "AGE-SECRET-KEY-") || strings.HasPrefix(u, "AGE-PLUGIN-") ||
		strings.Contains(u, "PRIVATE KEY-----")
}

// CanonicalRecipient is the form recipients are compared in: SSH keys
// without their comment, age keys in lower case. Changing an SSH key's
// comment does not change who can decrypt.
func CanonicalRecipient(s string) string {
	if strings.HasPrefix(s, "ssh-") {
		f := strings.Fields(s)
		if len(f) >= 2 {
			return f[0] + " " + f[1]
		}
		return s
	}
	return strings.ToLower(s)
}

// IsPostQuantumRecipient reports whether s is an age hybrid post-quantum
// recipient. age refuses to mix them with classic recipients in one file,
// since that would defeat their purpose.
func IsPostQuantumRecipient(s string) bool {
	return strings.HasPrefix(strings.ToLower(s), "age1pq1")
}
