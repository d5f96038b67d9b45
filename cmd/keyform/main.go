// Command keyform manages Nix binary-cache trust as a reviewed policy: it
// generates signing keys, renders trust snippets, patches nix.conf and
// verifies machines. Run "keyform help" for the commands.
package main

import (
	"crypto/rand"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, rand: rand.Reader}))
}
