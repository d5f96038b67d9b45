// Command keyform manages Nix binary-cache trust as a reviewed policy: it
// generates signing keys, renders trust snippets, patches nix.conf and
// verifies machines. Run "keyform help" for the commands.
package main

import (
	"crypto/rand"
	"os"
	"runtime/debug"
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
	os.Exit(run(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, rand: rand.Reader}))
}
