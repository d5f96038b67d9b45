package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/keyform/keyform/internal/redact"
)

// Command is one node of the command tree; Name may hold a space for
// nested commands ("keys list").
type Command struct {
	Name  string
	Args  string // synopsis after the name, e.g. "[-check] [-diff]"
	Short string
	Long  string
	// Setup declares the command's flags and returns the function that runs
	// it with the parsed flag values bound.
	Setup func(fs *flag.FlagSet) RunFunc
}

// RunFunc runs a command with its positional arguments.
type RunFunc func(e *Env, args []string) error

// App is a program: its command tree and what the global flags print.
type App struct {
	// Usage is printed before the list of commands by "keyform help".
	Usage    string
	Commands []*Command
	// Version runs for the global --version flag.
	Version RunFunc
}

// Run runs the command line args and returns the exit status. Everything
// the command prints goes through redact's Writer, the last safety net
// that keeps a secret key out of any output (report.go), and is flushed on
// every way out.
func (a *App) Run(args []string, e *Env) int {
	e = e.withDefaults()
	e.Colour = useColor(e.Stderr)
	if IsTerminal(e.Stderr) {
		e.TTY = e.Stderr
	}
	stdout, stderr := redact.NewWriter(e.Stdout), redact.NewWriter(e.Stderr)
	e.Stdout, e.Stderr = stdout, stderr
	defer func() {
		stdout.Flush()
		stderr.Flush()
	}()
	return e.exit(a.runArgs(args, e))
}

func (a *App) runArgs(args []string, e *Env) error {
	args, done, err := a.globalFlags(args, e)
	if done || err != nil {
		return err
	}
	if len(args) == 0 {
		a.printUsage(e.Stderr)
		return ErrInvalid
	}
	if args[0] == "help" {
		return a.runHelp(e, args[1:])
	}
	c, rest := a.find(args)
	if c == nil {
		if sub := a.subcommands(args[0]); len(sub) > 0 {
			return Usagef("%s needs a subcommand: %s", args[0], strings.Join(sub, ", "))
		}
		return Usagef("unknown command %q", strings.Join(args, " "))
	}
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runc := c.Setup(fs)
	// The global -C works after the command too ("keyform validate -C
	// DIR"); it is left out of the command's help.
	var dirs []string
	for _, name := range []string{"C", "chdir"} {
		fs.Func(name, "", func(d string) error { dirs = append(dirs, d); return nil })
	}
	pos, err := parseFlags(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printCommandUsage(e.Stdout, c)
		return nil
	}
	if err != nil {
		return UsageError{fmt.Sprintf("%s: %s", c.Name, longFlag.ReplaceAllString(err.Error(), "$1--$2"))}
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
func (a *App) globalFlags(args []string, e *Env) (rest []string, done bool, err error) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		arg := args[0]
		switch {
		case arg == "-h" || arg == "-help" || arg == "--help":
			a.printUsage(e.Stdout)
			return nil, true, nil
		case arg == "-version" || arg == "--version":
			return nil, true, a.Version(e, nil)
		case arg == "-C" || arg == "--chdir" || arg == "-chdir":
			if len(args) < 2 {
				return nil, false, Usagef("-C needs a directory")
			}
			if err := e.chdir(args[1]); err != nil {
				return nil, false, err
			}
			args = args[2:]
		case strings.HasPrefix(arg, "-C="), strings.HasPrefix(arg, "--chdir="), strings.HasPrefix(arg, "-chdir="):
			if err := e.chdir(arg[strings.IndexByte(arg, '=')+1:]); err != nil {
				return nil, false, err
			}
			args = args[1:]
		default:
			return nil, false, Usagef("unknown global flag %s", arg)
		}
	}
	return args, false, nil
}

func (a *App) runHelp(e *Env, args []string) error {
	if len(args) == 0 {
		a.printUsage(e.Stdout)
		return nil
	}
	c, _ := a.find(args)
	if c == nil {
		return Usagef("no command %q", strings.Join(args, " "))
	}
	printCommandUsage(e.Stdout, c)
	return nil
}

// find picks the longest command name that prefixes args.
func (a *App) find(args []string) (*Command, []string) {
	var best *Command
	n := 0
	for _, c := range a.Commands {
		words := strings.Fields(c.Name)
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
func (a *App) subcommands(group string) []string {
	var names []string
	for _, c := range a.Commands {
		if g, sub, ok := strings.Cut(c.Name, " "); ok && g == group {
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

func (a *App) printUsage(w io.Writer) {
	fmt.Fprint(w, a.Usage)
	tw := NewTable(w)
	sorted := slices.Clone(a.Commands)
	slices.SortFunc(sorted, func(a, b *Command) int { return strings.Compare(a.Name, b.Name) })
	for _, c := range sorted {
		fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Short)
	}
	tw.Flush()
}

func printCommandUsage(w io.Writer, c *Command) {
	fmt.Fprintf(w, "Usage: keyform %s %s\n\n%s\n", c.Name, c.Args, c.Short)
	if c.Long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Long))
	}
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	c.Setup(fs)
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	if len(flags) == 0 {
		return
	}
	// flag.PrintDefaults writes -dry-run; keyform's synopses and docs
	// write --dry-run (and -o for one letter).
	fmt.Fprintf(w, "\nFlags:\n")
	tw := NewTable(w)
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

// NewTable returns a writer that aligns tab-separated columns, two spaces
// apart, as keyform's listings and help do.
func NewTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
}
