package seal

import (
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
)

// ParseRecipient parses a recipient as a policy declares it and returns
// the age recipient that encrypts to it. Accepted forms:
//
//	age1...                      age X25519 public key (age-keygen -y)
//	age1pq1...                   age post-quantum hybrid public key
//	ssh-ed25519 AAAA... [comment] SSH public key (~/.ssh/id_ed25519.pub)
//	ssh-rsa AAAA... [comment]     SSH public key (~/.ssh/id_rsa.pub)
//
// Plugin and tag recipients (age1NAME1..., age1tag1...) are refused: they
// need an external plugin program at seal or unseal time, which keyform does
// not run. Errors never echo a secret key pasted by mistake.
func ParseRecipient(s string) (age.Recipient, error) {
	switch {
	case s == "":
		return nil, errors.New("the recipient is empty")
	case strings.TrimSpace(s) != s:
		return nil, errors.New("the recipient has leading or trailing whitespace")
	case LooksSecret(s):
		return nil, errors.New("this is a private key (an age identity or SSH private key), not a recipient: remove it from the policy now and treat it as leaked; a recipient is the public half, printed by \"age-keygen -y\" or found in ~/.ssh/id_ed25519.pub")
	case strings.ContainsAny(s, "\n\r"):
		return nil, errors.New("the recipient spans several lines; give one public key per list element")
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "age1tag1"), strings.HasPrefix(lower, "age1tagpq1"):
		return nil, fmt.Errorf("%s is a tag recipient (age1tag1...), which is decrypted through an age plugin; keyform does not run plugins: use an age X25519 key (age-keygen) or an SSH key", short(s))
	case strings.HasPrefix(lower, "age1pq1"):
		r, err := age.ParseHybridRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid age post-quantum recipient: %s", short(s), ageReason(err))
		}
		return r, nil
	case strings.HasPrefix(lower, "age1") && strings.Count(lower, "1") > 1:
		name := lower[len("age1"):strings.LastIndexByte(lower, '1')]
		return nil, fmt.Errorf("%s is a recipient of the age plugin %q (age-plugin-%s); keyform does not run plugins: use an age X25519 key (age-keygen) or an SSH key", short(s), name, name)
	case strings.HasPrefix(lower, "age1"):
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid age recipient: %s", short(s), ageReason(err))
		}
		return r, nil
	case strings.HasPrefix(s, "ssh-ed25519 "), strings.HasPrefix(s, "ssh-rsa "):
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid SSH public key: %s", short(s), ageReason(err))
		}
		return r, nil
	case strings.HasPrefix(s, "ssh-"), strings.HasPrefix(s, "ecdsa-"), strings.HasPrefix(s, "sk-"):
		typ, _, _ := strings.Cut(s, " ")
		return nil, fmt.Errorf("SSH key type %q cannot be an age recipient: use an ssh-ed25519 or ssh-rsa key, or an age key (age-keygen)", typ)
	}
	return nil, fmt.Errorf("%s is not an age or SSH public key: a recipient looks like \"age1...\" (age-keygen -y) or \"ssh-ed25519 AAAA... user@host\" (~/.ssh/id_ed25519.pub)", short(s))
}

// LooksSecret reports whether s looks like private key material (an age
// identity or a PEM private key), which must never be echoed.
func LooksSecret(s string) bool {
	u := strings.ToUpper(strings.TrimSpace(s))
	return strings.HasPrefix(u, "AGE-SECRET-KEY-") || strings.HasPrefix(u, "AGE-PLUGIN-") ||
		strings.Contains(u, "PRIVATE KEY-----")
}

// ageReason drops the recipient that age repeats in its errors
// ("malformed recipient \"age1...\": invalid checksum").
func ageReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "\": "); i >= 0 {
		return msg[i+3:]
	}
	return msg
}

// short abbreviates a recipient for messages: public keys are long, and the
// start and end are what people compare.
func short(s string) string {
	if len(s) <= 24 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q", s[:14]+"..."+s[len(s)-6:])
}

// Canonical is the form recipients are compared in: SSH keys without their
// comment, age keys in lower case. Changing an SSH key's comment does not
// change who can decrypt.
func Canonical(s string) string {
	if strings.HasPrefix(s, "ssh-") {
		f := strings.Fields(s)
		if len(f) >= 2 {
			return f[0] + " " + f[1]
		}
		return s
	}
	return strings.ToLower(s)
}

// IsPostQuantum reports whether s is an age hybrid post-quantum recipient.
// age refuses to mix them with classical recipients in one file, since that
// would defeat their purpose.
func IsPostQuantum(s string) bool {
	return strings.HasPrefix(strings.ToLower(s), "age1pq1")
}
