package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"crypto/rand"

	"github.com/keyform/keyform/internal/redact"
)

// This file is the command-line framework: the env every command runs
// in, the command tree, flag parsing and help. What the commands print and
// how is in report.go; reading the policy is in load.go.

// env is everything a command may touch besides the file system: its
// streams, its randomness, the policy directory and the parts of the
// machine tests replace. run fills in what a caller leaves zero.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// rand is the source of key material. Only tests replace it.
	rand io.Reader
	// dir is the policy directory given with -C, "" for the working
	// directory. Relative paths (policy files, output_dir, --file, --out,
	// --secret, ...) are relative to it: see path.
	dir string
	// now is the date keyform judges expiry against (see now).
	now func() time.Time
	// sys is what apply asks of the machine.
	sys system
	// colour says whether diagnostics on stderr may be coloured: it is a
	// terminal (decided before run wraps stderr).
	colour bool
	// tty is stderr as run found it when it is a terminal, else nil: for
	// progress lines (progress.go), which rewrite themselves with \r and
	// hold nothing secret, so they bypass the redacting writer, which holds
	// back unfinished lines.
	tty io.Writer
}

// system is the machine apply runs on. The test binary replaces it from
// KEYFORM_TEST_* variables (main_test.go); the real binary never reads
// those.
type system struct {
	// goos decides which daemon restart command to print.
	goos string
	// geteuid decides whether printed commands need sudo.
	geteuid func() int
	// runCommand runs a restart command.
	runCommand func(e *env, argv []string) error
	// applyPause holds apply between reading and writing the file, so a
	// test can prove that concurrent applies serialise.
	applyPause time.Duration
}

// withDefaults returns a copy of e with every unset field set, so that
// running a command never changes the caller's env.
func (e *env) withDefaults() *env {
	c := *e
	if c.stdin == nil {
		c.stdin = os.Stdin
	}
	if c.stdout == nil {
		c.stdout = os.Stdout
	}
	if c.stderr == nil {
		c.stderr = os.Stderr
	}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	if c.now == nil {
		c.now = now
	}
	if c.sys.goos == "" {
		c.sys.goos = runtime.GOOS
	}
	if c.sys.geteuid == nil {
		c.sys.geteuid = os.Geteuid
	}
	if c.sys.runCommand == nil {
		c.sys.runCommand = func(e *env, argv []string) error {
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Dir = e.dir
			cmd.Stdout, cmd.Stderr = e.stderr, e.stderr
			return cmd.Run()
		}
	}
	return &c
}

// path resolves a path the user or the policy gave: relative paths are
// relative to the policy directory. Messages keep showing the path as
// given; only file system calls use path's result.
func (e *env) path(p string) string {
	if e.dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.dir, p)
}

// chdir makes dir (relative to the current policy directory) the policy
// directory, as git -C does, without changing the process's directory.
func (e *env) chdir(dir string) error {
	d := e.path(dir)
	fi, err := os.Stat(d)
	if err != nil {
		return fmt.Errorf("-C %s: %w", dir, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("-C %s: %w", dir, syscall.ENOTDIR)
	}
	e.dir = d
	return nil
}

// command is one node of the command tree; name may hold a space for
// nested commands ("keys list"). commands.go lists them all.
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

const globalUsage = `keyform manages Nix binary-cache trust as a reviewed policy.

Usage:
  keyform [-C DIR] COMMAND [ARGS]

Global flags, before or after the command:
  -C, --chdir DIR  run as if keyform was started in DIR (the policy directory)
  -h, --help       show help; "keyform COMMAND --help" shows a command's help
  --version        print keyform's version

Flags take one dash or two (--dry-run, -dry-run), as in Go programs.

Commands:
`

// run runs the command line args and returns the exit status. Everything
// the command prints goes through redact's Writer, the last safety net
// that keeps a secret key out of any output (report.go), and is flushed on
// every way out.
func run(args []string, e *env) int {
	e = e.withDefaults()
	e.colour = useColor(e.stderr)
	if isTerminal(e.stderr) {
		e.tty = e.stderr
	}
	stdout, stderr := redact.NewWriter(e.stdout), redact.NewWriter(e.stderr)
	e.stdout, e.stderr = stdout, stderr
	defer func() {
		stdout.Flush()
		stderr.Flush()
	}()
	return e.exit(runArgs(args, e, commandTable()))
}

func runArgs(args []string, e *env, cmds []*command) error {
	args, done, err := globalFlags(args, e, cmds)
	if done || err != nil {
		return err
	}
	if len(args) == 0 {
		printGlobalUsage(e.stderr, cmds)
		return errInvalid
	}
	if args[0] == "help" {
		return runHelp(e, cmds, args[1:])
	}
	c, rest := findCommand(cmds, args)
	if c == nil {
		if sub := subcommands(cmds, args[0]); len(sub) > 0 {
			return usagef("%s needs a subcommand: %s", args[0], strings.Join(sub, ", "))
		}
		return usagef("unknown command %q", strings.Join(args, " "))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runc := c.setup(fs)
	// The global -C works after the command too ("keyform validate -C
	// DIR"); it is left out of the command's help.
	var dirs []string
	for _, name := range []string{"C", "chdir"} {
		fs.Func(name, "", func(d string) error { dirs = append(dirs, d); return nil })
	}
	pos, err := parseFlags(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printCommandUsage(e.stdout, c)
		return nil
	}
	if err != nil {
		return usageError{fmt.Sprintf("%s: %s", c.name, longFlag.ReplaceAllString(err.Error(), "$1--$2"))}
	}
	for _, d := range dirs {
		if err := e.chdir(d); err != nil {
			return err
		}
	}
	return runc(e, pos)
}

// longFlag finds the long flag names in the flag package's errors, which
// it writes with one dash ("flag needs an argument: -file").
var longFlag = regexp.MustCompile(`(\s)-([a-z][a-z0-9-]+)`)

// globalFlags handles the flags before the command: -C DIR, --help and
// --version (done reports that the latter two did all there was to do).
func globalFlags(args []string, e *env, cmds []*command) (rest []string, done bool, err error) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		switch {
		case a == "-h" || a == "-help" || a == "--help":
			printGlobalUsage(e.stdout, cmds)
			return nil, true, nil
		case a == "-version" || a == "--version":
			return nil, true, runVersion(e, nil)
		case a == "-C" || a == "--chdir" || a == "-chdir":
			if len(args) < 2 {
				return nil, false, usagef("-C needs a directory")
			}
			if err := e.chdir(args[1]); err != nil {
				return nil, false, err
			}
			args = args[2:]
		case strings.HasPrefix(a, "-C="), strings.HasPrefix(a, "--chdir="), strings.HasPrefix(a, "-chdir="):
			if err := e.chdir(a[strings.IndexByte(a, '=')+1:]); err != nil {
				return nil, false, err
			}
			args = args[1:]
		default:
			return nil, false, usagef("unknown global flag %s", a)
		}
	}
	return args, false, nil
}

func runHelp(e *env, cmds []*command, args []string) error {
	if len(args) == 0 {
		printGlobalUsage(e.stdout, cmds)
		return nil
	}
	c, _ := findCommand(cmds, args)
	if c == nil {
		return usagef("no command %q", strings.Join(args, " "))
	}
	printCommandUsage(e.stdout, c)
	return nil
}

// findCommand picks the longest command name that prefixes args.
func findCommand(cmds []*command, args []string) (*command, []string) {
	var best *command
	n := 0
	for _, c := range cmds {
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
func subcommands(cmds []*command, group string) []string {
	var names []string
	for _, c := range cmds {
		if g, sub, ok := strings.Cut(c.name, " "); ok && g == group {
			names = append(names, sub)
		}
	}
	slices.Sort(names)
	return names
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

func printGlobalUsage(w io.Writer, cmds []*command) {
	fmt.Fprint(w, globalUsage)
	tw := newTable(w)
	sorted := slices.Clone(cmds)
	slices.SortFunc(sorted, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	for _, c := range sorted {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.short)
	}
	tw.Flush()
}

func printCommandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: keyform %s %s\n\n%s\n", c.name, c.args, c.short)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.long))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	if len(flags) == 0 {
		return
	}
	// flag.PrintDefaults writes -dry-run; keyform's synopses and docs
	// write --dry-run (and -o for one letter).
	fmt.Fprintf(w, "\nFlags:\n")
	tw := newTable(w)
	for _, f := range flags {
		arg, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if len(f.Name) == 1 {
			name = "-" + f.Name
		}
		if arg != "" {
			name += " " + strings.ToUpper(arg)
		}
		if f.DefValue != "" && f.DefValue != "false" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, usage)
	}
	tw.Flush()
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
