package main

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
// Errors travel up to run as Go errors and are printed once, by exit: a
// hint comes from withHint here or from the domain package that knows the
// fix (internal/hint); usagef marks a command-line mistake.

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/keyform/keyform/internal/hint"
)

// Exit codes, shared by every command.
const (
	exitOK      = 0
	exitDiffers = 1 // a check found a difference
	exitInvalid = 2 // invalid input or failure
)

// exitError carries an exit code up to run, with an error to print or
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

// errDiffers reports that a check found a difference (exit 1); the command
// has already printed what differs.
var errDiffers = exitError{code: exitDiffers}

// errInvalid reports invalid input whose diagnostics were already printed.
var errInvalid = exitError{code: exitInvalid}

// differs reports that a check found a difference (exit 1), printing err.
func differs(err error) error { return exitError{exitDiffers, err} }

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// hintError is a failure with a suggested fix printed on its own line.
type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }
func (e hintError) Hint() string  { return e.hint }

func withHint(err error, format string, args ...any) error {
	return hintError{err, fmt.Sprintf(format, args...)}
}

// printf prints one line of progress or information: "keyform: ...".
func (e *env) printf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "keyform: "+format+"\n", args...)
}

// warnf prints a warning: something is wrong, but the command goes on.
func (e *env) warnf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "keyform: warning: "+format+"\n", args...)
}

// notef prints a note: something the user should know that is not wrong.
func (e *env) notef(format string, args ...any) {
	fmt.Fprintf(e.stderr, "keyform: note: "+format+"\n", args...)
}

// hintf suggests a fix for what the line before it reported.
func (e *env) hintf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "hint: "+format+"\n", args...)
}

// nextf says what to do next in a workflow.
func (e *env) nextf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "next: "+format+"\n", args...)
}

// printError prints an error and its hint, if it has one.
func (e *env) printError(err error) {
	e.printf("%s", err)
	if h := hint.Of(err); h != "" {
		e.hintf("%s", h)
	}
}

// exit prints what err says and returns the exit status it means.
func (e *env) exit(err error) int {
	var ee exitError
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		if ee.err != nil {
			e.printError(ee.err)
		}
		return ee.code
	case errors.As(err, &ue):
		e.printf("%s", ue.msg)
		e.hintf("run \"keyform help\" for usage")
		return exitInvalid
	}
	e.printError(err)
	return exitInvalid
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
