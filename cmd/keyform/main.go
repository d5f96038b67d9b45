// Command keyform manages Nix binary-cache trust as a reviewed policy: it
// generates signing keys, renders trust snippets, patches nix.conf and
// verifies machines. Run "keyform help" for the commands.
package main

import (
	"crypto/rand"
	"os"
	"runtime/debug"

	"github.com/keyform/keyform/internal/cli"
)

func main() {
	// keyform lives for a moment and most of what loading a policy
	// allocates is HCL's syntax tree, garbage soon after. Collecting at 5x
	// the live heap instead of 2x cuts the CPU time of rendering a large
	// policy by about a fifth, for a peak of about 250 MB instead of 150 MB
	// at 10,000 keys x 1,000 targets (BENCHMARKS.md). GOGC, when set,
	// still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(run(os.Args[1:], &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Rand: rand.Reader}))
}

// run runs keyform's command line args in e and returns the exit status.
func run(args []string, e *cli.Env) int {
	app := &cli.App{Usage: globalUsage, Commands: commandTable(), Version: runVersion}
	return app.Run(args, e)
}

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
