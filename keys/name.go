package keys

import (
	"fmt"
	"unicode/utf8"
)

// MaxNameLen is the longest key name [ValidateName] accepts, in bytes.
const MaxNameLen = 255

// AllowedNameChars describes the characters allowed in a key name.
const AllowedNameChars = "A-Z a-z 0-9 . _ + -"

// ValidateName reports whether name is a safe Nix key name: 1 to 255
// characters from A-Z a-z 0-9 . _ + -. The returned error wraps
// [ErrInvalidName]; it names the first bad character (quoted with %q) and
// its position, but does not repeat the whole name, so callers can add the
// context they see fit.
func ValidateName(name string) error {
	if name == "" {
		return newError(ErrInvalidName, "key name is empty: use 1 to 255 characters from "+AllowedNameChars)
	}
	if len(name) > MaxNameLen {
		return newError(ErrInvalidName, fmt.Sprintf("key name is %d bytes long, max %d: use a shorter name", len(name), MaxNameLen))
	}
	for i := 0; i < len(name); i++ {
		if nameByteOK(name[i]) {
			continue
		}
		var bad string
		if r, size := utf8.DecodeRuneInString(name[i:]); r != utf8.RuneError || size > 1 {
			bad = string(r)
		} else {
			bad = name[i : i+1]
		}
		return newError(ErrInvalidName, fmt.Sprintf("key name has character %q at byte %d, which is not allowed: use only %s", bad, i, AllowedNameChars))
	}
	return nil
}

func nameByteOK(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == '+', c == '-':
		return true
	}
	return false
}
