package redact

import (
	"bytes"
	"io"
	"sync"
)

// maxHeld bounds what a Writer keeps back while waiting to see whether a
// secret goes on: past it, the text is redacted as it stands and written.
const maxHeld = 64 << 10

// Writer redacts everything written through it before passing it on to
// the underlying writer: the keyform command's last safety net, wrapped
// around standard output and standard error. It passes whole lines on as
// soon as nothing in them can still grow into a secret, and keeps the rest
// (an unfinished line, a quoted key that may go on after its line break)
// until more arrives or Flush. Callers must Flush before exiting. It is
// safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	err error
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write redacts and writes what is complete of p, keeping the rest. It
// reports len(p) unless the underlying writer failed.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	if bytes.IndexByte(p, '\n') < 0 {
		// Only whole lines go out, so nothing new can: do not scan again
		// (a long line written in small pieces would cost quadratic time).
		if len(w.buf) <= maxHeld {
			return len(p), nil
		}
		return len(p), w.flush()
	}
	fs, hold := find(w.buf, false)
	// Only whole lines go out, up to the line where something may still
	// grow (hold) or a finding runs on into the unfinished line.
	emit := bytes.LastIndexByte(w.buf, '\n') + 1
	cut := hold
	for _, f := range fs {
		if f.Start < emit && emit < f.End {
			cut = min(cut, f.Start)
		}
	}
	if cut < emit {
		emit = bytes.LastIndexByte(w.buf[:cut], '\n') + 1
	}
	if emit == 0 {
		if len(w.buf) <= maxHeld {
			return len(p), nil
		}
		return len(p), w.flush()
	}
	var kept []Finding
	for _, f := range fs {
		if f.End <= emit {
			kept = append(kept, f)
		}
	}
	if err := w.write(w.buf[:emit], kept); err != nil {
		return 0, err
	}
	w.buf = append(w.buf[:0], w.buf[emit:]...)
	return len(p), nil
}

// Flush redacts and writes everything kept back.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.flush()
}

func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	fs, _ := find(w.buf, true)
	err := w.write(w.buf, fs)
	w.buf = w.buf[:0]
	return err
}

func (w *Writer) write(b []byte, fs []Finding) error {
	if len(fs) > 0 {
		b = replace(b, fs)
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = err
		return err
	}
	return nil
}
