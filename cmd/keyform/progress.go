package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress is one status line rewritten in place on a terminal, for
// commands that can run long (audit). It stays silent for its first
// delay, so short runs print nothing, and is nil (printing nothing at
// all) unless newProgress decided that a person is watching. Safe for
// concurrent use: audits report from several goroutines.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	start time.Time
	delay time.Duration
	shown bool
}

// progressDelay is how long a run must have taken before progress shows.
const progressDelay = 2 * time.Second

// newProgress returns a progress line on e's standard error when it is a
// terminal (e.tty), the output is for people (not --format json), and the
// run is not in CI or a dumb terminal; nil otherwise.
func newProgress(e *env, forPeople bool) *progress {
	if !forPeople || e.tty == nil || os.Getenv("CI") != "" || os.Getenv("TERM") == "dumb" {
		return nil
	}
	return &progress{w: e.tty, now: time.Now, start: time.Now(), delay: progressDelay}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// update rewrites the line: "keyform: " and the formatted text.
func (p *progress) update(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.now().Sub(p.start) < p.delay {
		return
	}
	// \r returns to the line's start, ESC[K erases what a longer line left.
	fmt.Fprintf(p.w, "\r\x1b[Kkeyform: "+format, args...)
	p.shown = true
}

// done clears the line, so that what follows starts on a clean line.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
