package cli

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	var out bytes.Buffer
	clock := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := &Progress{w: &out, now: func() time.Time { return clock }, start: clock, delay: progressDelay}

	// Short runs print nothing, not even the clearing sequence.
	p.Update("audit %s: %d narinfos checked", "acme", 1000)
	p.Done()
	if out.Len() != 0 {
		t.Fatalf("a run shorter than the delay printed %q", out.String())
	}

	// Long runs rewrite one line in place and clear it at the end.
	clock = clock.Add(3 * time.Second)
	p.Update("audit %s: %d narinfos checked", "acme", 2000)
	p.Update("audit %s: %d narinfos checked", "acme", 3000)
	p.Done()
	want := "\r\x1b[Kkeyform: audit acme: 2000 narinfos checked\r\x1b[Kkeyform: audit acme: 3000 narinfos checked\r\x1b[K"
	if out.String() != want {
		t.Fatalf("progress wrote %q, want %q", out.String(), want)
	}

	// A nil progress (not a terminal, JSON output, CI) does nothing.
	var none *Progress
	none.Update("x")
	none.Done()
}

func TestProgressOnlyForPeopleOnATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []io.Writer{new(bytes.Buffer), f} {
		if IsTerminal(w) {
			t.Errorf("%T is a terminal", w)
		}
	}
	t.Setenv("CI", "")
	t.Setenv("TERM", "xterm")
	tty := &Env{TTY: new(bytes.Buffer)} // as run sets it on a terminal
	if p := NewProgress(tty, true); p == nil {
		t.Error("no progress on a terminal")
	}
	if p := NewProgress(&Env{}, true); p != nil {
		t.Error("progress without a terminal")
	}
	if p := NewProgress(tty, false); p != nil {
		t.Error("progress for --format json")
	}
	t.Setenv("TERM", "dumb")
	if p := NewProgress(tty, true); p != nil {
		t.Error("progress on a dumb terminal")
	}
	t.Setenv("TERM", "xterm")
	t.Setenv("CI", "true")
	if p := NewProgress(tty, true); p != nil {
		t.Error("progress in CI")
	}
}
