// Package cli is keyform's command-line framework: the Env every command
// runs in (its streams, randomness, policy directory and the parts of the
// machine tests replace), the command tree with its flag parsing and help,
// and the reporter that prints results, warnings, notes, hints and errors
// by one rule (report.go). The commands themselves, and the command table,
// live in cmd/keyform.
package cli

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// Env is everything a command may touch besides the file system: its
// streams, its randomness, the policy directory and the parts of the
// machine tests replace. App.Run fills in what a caller leaves zero.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Rand is the source of key material. Only tests replace it.
	Rand io.Reader
	// Dir is the policy directory given with -C, "" for the working
	// directory. Relative paths (policy files, output_dir, --file, --out,
	// --secret, ...) are relative to it: see Path.
	Dir string
	// Now is the date keyform judges expiry against (see now).
	Now func() time.Time
	// Sys is what apply and verify ask of the machine.
	Sys System
	// Colour says whether diagnostics on stderr may be coloured: it is a
	// terminal (decided before Run wraps stderr).
	Colour bool
	// TTY is stderr as Run found it when it is a terminal, else nil: for
	// progress lines (progress.go), which rewrite themselves with \r and
	// hold nothing secret, so they bypass the redacting writer, which holds
	// back unfinished lines.
	TTY io.Writer
}

// System is the machine apply runs on. The test binary replaces it from
// KEYFORM_TEST_* variables (cmd/keyform's main_test.go); the real binary
// never reads those.
type System struct {
	// GOOS decides which daemon restart command to print.
	GOOS string
	// Geteuid decides whether printed commands need sudo.
	Geteuid func() int
	// RunCommand runs a restart command.
	RunCommand func(e *Env, argv []string) error
	// ApplyPause holds apply between reading and writing the file, so a
	// test can prove that concurrent applies serialise.
	ApplyPause time.Duration
}

// withDefaults returns a copy of e with every unset field set, so that
// running a command never changes the caller's Env.
func (e *Env) withDefaults() *Env {
	c := *e
	if c.Stdin == nil {
		c.Stdin = os.Stdin
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Now == nil {
		c.Now = now
	}
	if c.Sys.GOOS == "" {
		c.Sys.GOOS = runtime.GOOS
	}
	if c.Sys.Geteuid == nil {
		c.Sys.Geteuid = os.Geteuid
	}
	if c.Sys.RunCommand == nil {
		c.Sys.RunCommand = func(e *Env, argv []string) error {
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Dir = e.Dir
			cmd.Stdout, cmd.Stderr = e.Stderr, e.Stderr
			return cmd.Run()
		}
	}
	return &c
}

// Path resolves a path the user or the policy gave: relative paths are
// relative to the policy directory. Messages keep showing the path as
// given; only file system calls use Path's result.
func (e *Env) Path(p string) string {
	if e.Dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// chdir makes dir (relative to the current policy directory) the policy
// directory, as git -C does, without changing the process's directory.
func (e *Env) chdir(dir string) error {
	d := e.Path(dir)
	fi, err := os.Stat(d)
	if err != nil {
		return fmt.Errorf("-C %s: %w", dir, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("-C %s: %w", dir, syscall.ENOTDIR)
	}
	e.Dir = d
	return nil
}

// now is the date keyform judges expiry against, the default of Env.Now.
// KEYFORM_NOW (YYYY-MM-DD) pins it, so scripts and tests about expiry give
// the same answer every day.
func now() time.Time {
	if s := os.Getenv("KEYFORM_NOW"); s != "" {
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t
		}
	}
	return time.Now()
}
