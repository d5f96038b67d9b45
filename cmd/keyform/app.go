package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
)

// Exit codes, shared by every command.
const (
	exitOK      = 0
	exitDiffers = 1 // a check found a difference
	exitInvalid = 2 // invalid input or failure
)

// env is what a command may touch besides the file system.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// rand is the source of key material. Only tests replace it.
	rand io.Reader
}

// command is one node of the command tree; name may hold a space for
// nested commands ("keys list").
type command struct {
	name  string
	args  string // synopsis after the name, e.g. "[-check] [-diff]"
	short string
	long  string
	// setup declares the command's flags and returns the function that runs
	// it with the parsed flag values bound.
	setup func(fs *flag.FlagSet) runFunc
}

type runFunc func(e *env, args []string) error

var commands []*command

func register(c *command) { commands = append(commands, c) }

// exitError carries an exit code up to run without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// errDiffers reports that a check found a difference (exit 1); the command
// has already printed what differs.
var errDiffers = exitError{exitDiffers}

// errInvalid reports invalid input whose diagnostics were already printed.
var errInvalid = exitError{exitInvalid}

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

func withHint(err error, format string, args ...any) error {
	return hintError{err, fmt.Sprintf(format, args...)}
}

const globalUsage = `keyform manages Nix binary-cache trust as a reviewed policy.

Usage:
  keyform [-C DIR] COMMAND [ARGS]

Global flags:
  -C DIR     run as if keyform was started in DIR (the policy directory)
  -h, --help show help; "keyform COMMAND --help" shows a command's help

Commands:
`

func run(args []string, e *env) int {
	err := runArgs(args, e)
	var ee exitError
	var ue usageError
	var he hintError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "keyform: %s\n", ue.msg)
		fmt.Fprintf(e.stderr, "hint: run \"keyform help\" for usage\n")
		return exitInvalid
	case errors.As(err, &he):
		fmt.Fprintf(e.stderr, "keyform: %s\nhint: %s\n", he.err, he.hint)
		return exitInvalid
	default:
		fmt.Fprintf(e.stderr, "keyform: %s\n", err)
		return exitInvalid
	}
}

func runArgs(args []string, e *env) error {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		switch {
		case a == "-h" || a == "-help" || a == "--help":
			printGlobalUsage(e.stdout)
			return nil
		case a == "-version" || a == "--version":
			return runVersion(e, nil)
		case a == "-C" || a == "--chdir" || a == "-chdir":
			if len(args) < 2 {
				return usagef("-C needs a directory")
			}
			if err := os.Chdir(args[1]); err != nil {
				return fmt.Errorf("-C %s: %w", args[1], errors.Unwrap(err))
			}
			args = args[2:]
		case strings.HasPrefix(a, "-C="), strings.HasPrefix(a, "--chdir="), strings.HasPrefix(a, "-chdir="):
			dir := a[strings.IndexByte(a, '=')+1:]
			if err := os.Chdir(dir); err != nil {
				return fmt.Errorf("-C %s: %w", dir, errors.Unwrap(err))
			}
			args = args[1:]
		default:
			return usagef("unknown global flag %s", a)
		}
	}
	if len(args) == 0 {
		printGlobalUsage(e.stderr)
		return exitError{exitInvalid}
	}
	if args[0] == "help" {
		if len(args) == 1 {
			printGlobalUsage(e.stdout)
			return nil
		}
		c, _ := findCommand(args[1:])
		if c == nil {
			return usagef("no command %q", strings.Join(args[1:], " "))
		}
		fs, _ := newFlagSet(c)
		printCommandUsage(e.stdout, c, fs)
		return nil
	}
	c, rest := findCommand(args)
	if c == nil {
		if sub := subcommands(args[0]); len(sub) > 0 {
			return usagef("%s needs a subcommand: %s", args[0], strings.Join(sub, ", "))
		}
		return usagef("unknown command %q", strings.Join(args, " "))
	}
	fs, runc := newFlagSet(c)
	pos, err := parseFlags(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printCommandUsage(e.stdout, c, fs)
		return nil
	}
	if err != nil {
		return usageError{fmt.Sprintf("%s: %s", c.name, err)}
	}
	return runc(e, pos)
}

// findCommand picks the longest command name that prefixes args.
func findCommand(args []string) (*command, []string) {
	var best *command
	n := 0
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(words) <= len(args) && slices.Equal(words, args[:len(words)]) && len(words) > n {
			best, n = c, len(words)
		}
	}
	if best == nil {
		// A group name alone ("keyform keys") lists its subcommands.
		return nil, nil
	}
	return best, args[n:]
}

// subcommands lists the commands under a group name such as "keys".
func subcommands(group string) []string {
	var names []string
	for _, c := range commands {
		if g, sub, ok := strings.Cut(c.name, " "); ok && g == group {
			names = append(names, sub)
		}
	}
	slices.Sort(names)
	return names
}

func newFlagSet(c *command) (*flag.FlagSet, runFunc) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, c.setup(fs)
}

// parseFlags lets flags and arguments mix ("keygen KEY --replace"), as
// users expect from modern CLIs; "--" ends flag parsing.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func printGlobalUsage(w io.Writer) {
	fmt.Fprint(w, globalUsage)
	tw := newTable(w)
	sorted := slices.Clone(commands)
	slices.SortFunc(sorted, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	for _, c := range sorted {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.short)
	}
	tw.Flush()
}

func printCommandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: keyform %s %s\n\n%s\n", c.name, c.args, c.short)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.long))
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// loadPolicy loads the policy in the current directory and prints its
// diagnostics. Invalid policies end the command with exit 2.
func loadPolicy(e *env, opts schema.Options) (*policy.Policy, error) {
	res := schema.Load(".", loadOptions(opts))
	if len(res.Diags) > 0 {
		res.WriteDiagnostics(e.stderr, 0, useColor(e.stderr))
	}
	if res.HasErrors() {
		return nil, errInvalid
	}
	return res.Policy, nil
}

// now is the date keyform judges expiry against. KEYFORM_NOW (YYYY-MM-DD)
// pins it, so scripts and tests about expiry give the same answer every day.
func now() time.Time {
	if s := os.Getenv("KEYFORM_NOW"); s != "" {
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t
		}
	}
	return time.Now()
}

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

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
