package main

import (
	"bytes"
	"os"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	var out bytes.Buffer
	clock := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{w: &out, now: func() time.Time { return clock }, start: clock, delay: progressDelay}

	// Short runs print nothing, not even the clearing sequence.
	p.update("audit %s: %d narinfos checked", "acme", 1000)
	p.done()
	if out.Len() != 0 {
		t.Fatalf("a run shorter than the delay printed %q", out.String())
	}

	// Long runs rewrite one line in place and clear it at the end.
	clock = clock.Add(3 * time.Second)
	p.update("audit %s: %d narinfos checked", "acme", 2000)
	p.update("audit %s: %d narinfos checked", "acme", 3000)
	p.done()
	want := "\r\x1b[Kkeyform: audit acme: 2000 narinfos checked\r\x1b[Kkeyform: audit acme: 3000 narinfos checked\r\x1b[K"
	if out.String() != want {
		t.Fatalf("progress wrote %q, want %q", out.String(), want)
	}

	// A nil progress (not a terminal, JSON output, CI) does nothing.
	var none *progress
	none.update("x")
	none.done()
}

func TestProgressOnlyForPeopleOnATerminal(t *testing.T) {
	if p := newProgress(&env{stderr: new(bytes.Buffer)}, true); p != nil {
		t.Error("progress on a buffer, which is no terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p := newProgress(&env{stderr: f}, true); p != nil {
		t.Error("progress on a regular file, which is no terminal")
	}
	if p := newProgress(&env{stderr: os.Stderr}, false); p != nil {
		t.Error("progress for --format json")
	}
	t.Setenv("CI", "true")
	if p := newProgress(&env{stderr: os.Stderr}, true); p != nil {
		t.Error("progress in CI")
	}
}
