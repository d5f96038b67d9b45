package keys

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these, so
// callers can test for a class of problem with [errors.Is].
var (
	// ErrSecretKeyGiven is wrapped when a secret key was passed where a
	// public key belongs.
	ErrSecretKeyGiven = errors.New("a secret key was given where a public key belongs")
	// ErrPublicKeyGiven is wrapped when a public key was passed where a
	// secret key belongs.
	ErrPublicKeyGiven = errors.New("a public key was given where a secret key belongs")
	// ErrInvalidName is wrapped when a key name is empty, too long or holds
	// a character outside A-Z a-z 0-9 . _ + -.
	ErrInvalidName = errors.New("invalid key name")
	// ErrMissingSeparator is wrapped when a NAME:BASE64 string has no ':'.
	ErrMissingSeparator = errors.New("missing ':' between name and key")
	// ErrEmptyName is wrapped when the NAME part of NAME:BASE64 is empty.
	ErrEmptyName = errors.New("empty name")
	// ErrEmptyKey is wrapped when the BASE64 part of NAME:BASE64 is empty.
	ErrEmptyKey = errors.New("empty key")
	// ErrBadBase64 is wrapped when the BASE64 part is not canonical
	// standard base64 with '=' padding.
	ErrBadBase64 = errors.New("invalid base64")
	// ErrBadLength is wrapped when decoded key or signature bytes have the
	// wrong length.
	ErrBadLength = errors.New("wrong length")
	// ErrLineBreak is wrapped when a one-line value holds a CR or an inner
	// line break.
	ErrLineBreak = errors.New("unexpected line break")
	// ErrKeyMismatch is wrapped when the public half stored in a secret key
	// is not the one derived from its seed.
	ErrKeyMismatch = errors.New("secret key halves do not match")
	// ErrBadHash is wrapped when a NAR hash cannot be parsed or is not
	// SHA-256.
	ErrBadHash = errors.New("invalid hash")
	// ErrBadStorePath is wrapped when a store path or store path base name
	// is malformed.
	ErrBadStorePath = errors.New("invalid store path")
	// ErrBadNarinfo is wrapped when .narinfo text is malformed or lacks a
	// required field.
	ErrBadNarinfo = errors.New("invalid narinfo")
)

// kindError is an error with a hand-written message that wraps a sentinel.
// The message is built by this package and never includes secret material.
type kindError struct {
	msg   string
	kinds []error
}

func (e *kindError) Error() string   { return e.msg }
func (e *kindError) Unwrap() []error { return e.kinds }

func newError(kind error, msg string) error { return &kindError{msg: msg, kinds: []error{kind}} }

// newError2 is newError for errors that belong to two classes.
func newError2(kind1, kind2 error, msg string) error {
	return &kindError{msg: msg, kinds: []error{kind1, kind2}}
}
