package report

import (
	"strings"
	"testing"

	_ "github.com/keyform/keyform/internal/golden"
)

// Log prefixes each kind as internal/cli prints it after "keyform: ",
// so package tests read like the CLI's output.
func TestLog(t *testing.T) {
	var l Log
	var r Reporter = &l
	r.Printf("plain %d", 1)
	r.Warnf("w")
	r.Notef("n")
	r.Hintf("h")
	r.Nextf("x")
	Discard{}.Warnf("dropped")
	if got, want := strings.Join(l, "|"), "plain 1|warning: w|note: n|hint: h|next: x"; got != want {
		t.Errorf("Log = %q, want %q", got, want)
	}
}
