package cli

// This file is how keyform talks to the user. The rules are:
//
//   - Standard output carries results: what a script, a pipe or a review
//     consumes. A public key, a rendered file, a plan, a diff, one status
//     line per file or key ("created generated/nixos/servers.nix",
//     "resealed main_1: added carol"), and the commands to run when they
//     are the result (apply's daemon restart, publisher setup's flox
//     setting).
//
//   - Everything else goes to standard error: errors, warnings, notes and
//     progress, each line starting with "keyform:" (warnings with
//     "keyform: warning:", notes with "keyform: note:"). No capitalised
//     initials and no periods at the end.
//
//   - A suggested fix follows the line it is about, on its own line
//     starting with "hint:"; the next step of a workflow (rotate, retire)
//     starts with "next:". Both go to standard error. (init's "next:"
//     line is on standard output, after its result, as it always was.)
//
//   - Policy diagnostics are the exception to the prefix: schema prints
//     them with their FILE:LINE:COL and a source snippet, the way HCL and
//     Terraform do.
//
//   - Nothing keyform prints ever holds a secret key.
//
// Errors travel up to App.Run as Go errors and are printed once, by exit:
// a hint comes from hint.Wrap, in the command or in the domain package
// that knows the fix (internal/hint); Usagef marks a command-line mistake.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
)

// Exit codes, shared by every command.
const (
	ExitOK      = 0
	ExitDiffers = 1 // a check found a difference
	ExitInvalid = 2 // invalid input or failure
)

// exitError carries an exit code up to Run, with an error to print or
// none when the command has printed everything already.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit %d", e.code)
}

// ErrDiffers reports that a check found a difference (exit 1); the command
// has already printed what differs.
var ErrDiffers error = exitError{code: ExitDiffers}

// ErrInvalid reports invalid input or a failure whose diagnostics were
// already printed (exit 2).
var ErrInvalid error = exitError{code: ExitInvalid}

// Differs reports that a check found a difference (exit 1), printing err.
func Differs(err error) error { return exitError{ExitDiffers, err} }

// UsageError is a mistake on the command line (exit 2, with a hint to run
// "keyform help").
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error { return UsageError{fmt.Sprintf(format, args...)} }

// Env is the reporter the domain packages talk through.
var _ report.Reporter = (*Env)(nil)

// Printf prints one line of progress or information: "keyform: ...".
func (e *Env) Printf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, "keyform: "+format+"\n", args...)
}

// Warnf prints a warning: something is wrong, but the command goes on.
func (e *Env) Warnf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, "keyform: warning: "+format+"\n", args...)
}

// Notef prints a note: something the user should know that is not wrong.
func (e *Env) Notef(format string, args ...any) {
	fmt.Fprintf(e.Stderr, "keyform: note: "+format+"\n", args...)
}

// Hintf suggests a fix for what the line before it reported.
func (e *Env) Hintf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, "hint: "+format+"\n", args...)
}

// Nextf says what to do next in a workflow.
func (e *Env) Nextf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, "next: "+format+"\n", args...)
}

// PrintError prints an error and its hint, if it has one.
func (e *Env) PrintError(err error) {
	e.Printf("%s", err)
	if h := hint.Of(err); h != "" {
		e.Hintf("%s", h)
	}
}

// PrintJSON prints v on standard output as indented JSON, for scripts.
func (e *Env) PrintJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = e.Stdout.Write(append(b, '\n'))
	return err
}

// exit prints what err says and returns the exit status it means.
func (e *Env) exit(err error) int {
	var ee exitError
	var ue UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		if ee.err != nil {
			e.PrintError(ee.err)
		}
		return ee.code
	case errors.As(err, &ue):
		e.Printf("%s", ue.Msg)
		e.Hintf("run \"keyform help\" for usage")
		return ExitInvalid
	}
	e.PrintError(err)
	return ExitInvalid
}

// useColor reports whether w is a terminal that diagnostics may colour.
func useColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Plural is "1 key", "2 keys": n and the word that fits it.
func Plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
