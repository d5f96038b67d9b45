// Package report is the one interface through which domain packages tell
// the user what is not a result: lines, warnings, notes, hints and next
// steps, on standard error. internal/cli's Env implements it and writes
// each kind by the output rule at the top of internal/cli/report.go;
// domain packages never format prefixes themselves.
package report

import "fmt"

// Reporter receives what a command says besides its results.
type Reporter interface {
	// Printf is a plain line ("keyform: ...").
	Printf(format string, args ...any)
	// Warnf is a warning ("keyform: warning: ...").
	Warnf(format string, args ...any)
	// Notef is a note ("keyform: note: ...").
	Notef(format string, args ...any)
	// Hintf is the fix for the line before it ("hint: ...").
	Hintf(format string, args ...any)
	// Nextf is the next step of a workflow ("next: ...").
	Nextf(format string, args ...any)
}

// Log records what is reported, a line each with its kind's prefix
// ("warning: ", "note: ", "hint: ", "next: "; none for Printf), so that a
// package's tests can assert what its users would be told.
type Log []string

func (l *Log) add(prefix, format string, args []any) {
	*l = append(*l, prefix+fmt.Sprintf(format, args...))
}

func (l *Log) Printf(format string, args ...any) { l.add("", format, args) }
func (l *Log) Warnf(format string, args ...any)  { l.add("warning: ", format, args) }
func (l *Log) Notef(format string, args ...any)  { l.add("note: ", format, args) }
func (l *Log) Hintf(format string, args ...any)  { l.add("hint: ", format, args) }
func (l *Log) Nextf(format string, args ...any)  { l.add("next: ", format, args) }

// Discard drops everything.
type Discard struct{}

func (Discard) Printf(string, ...any) {}
func (Discard) Warnf(string, ...any)  {}
func (Discard) Notef(string, ...any)  {}
func (Discard) Hintf(string, ...any)  {}
func (Discard) Nextf(string, ...any)  {}
