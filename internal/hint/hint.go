// Package hint attaches a suggested fix to an error. The CLI prints the
// error on one line and the fix on the next, as "hint: ...". A domain
// package uses it when it knows the fix better than its caller.
package hint

import (
	"errors"
	"fmt"
)

// Error is an error with a suggested fix.
type Error struct {
	Err error
	Fix string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Hint returns the suggested fix.
func (e *Error) Hint() string { return e.Fix }

// Wrap attaches a fix to err.
func Wrap(err error, format string, args ...any) error {
	return &Error{Err: err, Fix: fmt.Sprintf(format, args...)}
}

// Of returns the fix of the outermost error in err's chain that has one
// (a Hint method), or "".
func Of(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}
