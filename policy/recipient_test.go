package policy

import (
	"strings"
	"testing"
)

func TestCheckRecipientText(t *testing.T) {
	for _, s := range []string{"age1qqqq", "ssh-ed25519 AAAA user@host", "not a key at all"} {
		if err := CheckRecipientText(s); err != nil {
			t.Errorf("CheckRecipientText(%q) = %v; the text rules must leave the type to seal", s, err)
		}
	}
	secret := "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
	for s, want := range map[string]string{
		"":                      "empty",
		" age1qqqq":             "whitespace",
		"age1qqqq\n":            "whitespace",
		"age1q\nage1q":          "several lines",
		secret:                  "private key",
		strings.ToLower(secret): "private key",
		"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----": "private key",
	} {
		err := CheckRecipientText(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckRecipientText(%q) = %v, want an error about %s", s, err, want)
		}
		if err != nil && len(s) > 8 && strings.Contains(err.Error(), s[:8]) {
			t.Errorf("the error echoes the text: %v", err)
		}
	}
}

func TestCanonicalRecipient(t *testing.T) {
	for in, want := range map[string]string{
		"ssh-ed25519 AAAAC3 alice@laptop": "ssh-ed25519 AAAAC3",
		"ssh-ed25519 AAAAC3":              "ssh-ed25519 AAAAC3",
		"ssh-ed25519":                     "ssh-ed25519",
		"AGE1QQQQ":                        "age1qqqq",
	} {
		if got := CanonicalRecipient(in); got != want {
			t.Errorf("CanonicalRecipient(%q) = %q, want %q", in, got, want)
		}
	}
	if !IsPostQuantumRecipient("AGE1PQ1QQQ") || IsPostQuantumRecipient("age1qqq") {
		t.Error("IsPostQuantumRecipient")
	}
}
