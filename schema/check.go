package schema

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"
)

// checkNoHostile rejects characters that would break, or smuggle code into,
// the formats keyform writes: nix.conf (whitespace and # end a value), Nix
// strings (" \ ${), shell commands and comments (newlines, quotes).
func checkNoHostile(s string) error {
	for _, r := range s {
		switch {
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

// checkURL accepts what nix.conf's substituters setting takes: a URL with a
// scheme and no characters that could break generated files.
func checkURL(s string) error {
	if s == "" {
		return fmt.Errorf("the substituter is empty")
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
