package schema

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/keyform/keyform/internal/redact"
)

// checkNoHostile rejects characters that would break, or smuggle code into,
// the formats keyform writes: nix.conf (whitespace and # end a value), Nix
// strings (" \ ${), shell commands and comments (newlines, quotes).
func checkNoHostile(s string) error { return checkChars(s, false) }

func checkChars(s string, allowSpace bool) error {
	for _, r := range s {
		switch {
		case r == ' ' && allowSpace:
		case unicode.IsSpace(r):
			return fmt.Errorf("%q contains whitespace, which would split it in nix.conf", s)
		case unicode.IsControl(r):
			return fmt.Errorf("%q contains a control character", s)
		case strings.ContainsRune("\"'`\\#$", r):
			return fmt.Errorf("%q contains %q, which is not allowed in generated Nix, nix.conf or shell text", s, r)
		}
	}
	if strings.Contains(s, "*/") {
		return fmt.Errorf("%q contains \"*/\", which would end a comment", s)
	}
	return nil
}

// errCredentials is checkURL's error for a URL with credentials; it does
// not quote the URL.
var errCredentials = errors.New("the substituter URL holds credentials (user:password@, or a token before @), which keyform does not print: they would be written into every rendered file and plan. Remove them, and give them to Nix in a netrc file instead: the netrc-file setting (default /etc/nix/netrc) with a line \"machine HOST login USER password PASSWORD\"")

// checkURL accepts what nix.conf's substituters setting takes: a URL with a
// scheme, no credentials, and no characters that could break generated
// files.
func checkURL(s string) error {
	if s == "" {
		return fmt.Errorf("the substituter is empty")
	}
	if hasCredentials(s) {
		return errCredentials
	}
	if err := checkNoHostile(s); err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("%q is not a URL with a scheme", s)
	}
	switch u.Scheme {
	case "http", "https", "s3", "file", "ssh", "ssh-ng", "gs":
	default:
		return fmt.Errorf("%q uses the scheme %q, which Nix does not take for substituters (use https, http, s3, file, ssh or ssh-ng)", s, u.Scheme)
	}
	return nil
}

// hasCredentials reports whether the URL s carries user information that
// is a secret: a password, or a user name outside ssh URLs (where
// "ssh://nix@host" names an account, but "https://TOKEN@host" is a token).
func hasCredentials(s string) bool {
	for _, f := range redact.Find([]byte(s)) {
		if f.Kind == redact.URLCredentials {
			return true
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return false
	}
	_, hasPassword := u.User.Password()
	return hasPassword || !strings.Contains(u.Scheme, "ssh")
}

// checkPath accepts an absolute file path keyform reads and writes but
// never writes into generated text other than an escaped comment: a
// space is fine (macOS has "/Library/Application Support"), other
// characters checkNoHostile refuses are not.
func checkPath(p string) error { return checkChars(p, true) }

// checkRelPath accepts a clean relative path that stays inside its base.
func checkRelPath(p string) error {
	if p == "" {
		return fmt.Errorf("the path is empty")
	}
	if filepath.IsAbs(p) {
		return fmt.Errorf("%q is absolute, but must be relative", p)
	}
	if err := checkNoHostile(p); err != nil {
		return err
	}
	if !filepath.IsLocal(p) {
		return fmt.Errorf("%q leaves its base directory", p)
	}
	return nil
}
