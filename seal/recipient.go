package seal

import (
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"

	"github.com/keyform/keyform/policy"
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
	if err := policy.CheckRecipientText(s); err != nil {
		return nil, err
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
