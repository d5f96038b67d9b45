package nixconf

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/safefile"
)

// A nix.conf, or a file it includes, that is a named pipe, a device or
// huge is refused at once with an error naming it, never read without end.
func TestReadFileHostile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes or /dev/zero")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.conf")
	os.Symlink("/dev/zero", zero)
	big := filepath.Join(dir, "big.conf")
	f, _ := os.Create(big)
	f.Truncate(MaxConfFileSize + 1)
	f.Close()

	deadline := func(what string, fn func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { defer close(done); fn() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s hangs", what)
		}
	}
	for _, c := range []struct {
		inc, want string
	}{
		{fifo, "pipe.conf is a named pipe, not a regular file"},
		{zero, "zero.conf is a character device, not a regular file"},
		{big, "big.conf is 33554433 bytes, larger than the limit of 32 MiB"},
	} {
		for _, directive := range []string{"include", "!include"} {
			main, err := Parse(filepath.Join(dir, "nix.conf"), []byte(directive+" "+c.inc+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			deadline(directive+" "+c.inc, func() {
				_, err := Evaluate(ReadFile, main)
				var ie *IncludeError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s %s: %v, want an include error saying %q", directive, filepath.Base(c.inc), err, c.want)
				}
			})
		}
		// The file apply patches, read through OpenConf.
		deadline("OpenConf "+c.inc, func() {
			if _, err := (Host{StoreDir: "/nix/store"}).OpenConf(c.inc, c.inc); err == nil {
				t.Errorf("OpenConf(%s) read it", filepath.Base(c.inc))
			}
		})
	}
	var tl *safefile.TooLargeError
	if _, err := ReadShownConfigFile(big); !errors.As(err, &tl) {
		t.Errorf("ReadShownConfigFile of a huge file: %v", err)
	}
	// A missing "!include" is still skipped, as Nix does.
	main, _ := Parse(filepath.Join(dir, "nix.conf"), []byte("!include missing.conf\n"))
	if _, err := Evaluate(ReadFile, main); err != nil {
		t.Errorf("a missing !include: %v", err)
	}
}
