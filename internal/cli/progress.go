package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// Progress is one status line rewritten in place on a terminal, for
// commands that can run long (audit). It stays silent for its first
// delay, so short runs print nothing, and is nil (printing nothing at
// all) unless NewProgress decided that a person is watching. Safe for
// concurrent use: audits report from several goroutines.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	start time.Time
	delay time.Duration
	shown bool
}

// progressDelay is how long a run must have taken before progress shows.
const progressDelay = 2 * time.Second

// NewProgress returns a progress line on e's standard error when it is a
// terminal (e.TTY), the output is for people (not --format json), and the
// run is not in CI or a dumb terminal; nil otherwise.
func NewProgress(e *Env, forPeople bool) *Progress {
	if !forPeople || e.TTY == nil || os.Getenv("CI") != "" || os.Getenv("TERM") == "dumb" {
		return nil
	}
	return &Progress{w: e.TTY, now: time.Now, start: time.Now(), delay: progressDelay}
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Update rewrites the line: "keyform: " and the formatted text.
func (p *Progress) Update(format string, args ...any) {
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

// Done clears the line, so that what follows starts on a clean line.
func (p *Progress) Done() {
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
