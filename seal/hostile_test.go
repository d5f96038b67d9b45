package seal

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/keyform/keyform/internal/safefile"
)

// A sealed file or record that is a named pipe, a device or huge comes from
// a pull request as easily as a real one: Check and OpenFile refuse it at
// once, naming the file, instead of hanging or reading without end.
func TestHostileSealedFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes or /dev/zero")
	}
	p, _ := testPolicy(t)
	k := p.Keys[0]
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sealed"), 0o755)
	fifo := filepath.Join(dir, "sealed/main_1.age")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink("/dev/zero", filepath.Join(dir, "sealed/main_1.recipients"))

	done := make(chan error, 2)
	go func() {
		_, err := Check(os.DirFS(dir), p, k)
		done <- err
	}()
	go func() {
		f, err := OpenFile(fifo)
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	for range 2 {
		select {
		case err := <-done:
			var nr *safefile.NotRegularError
			if !errors.As(err, &nr) || !strings.Contains(err.Error(), "sealed/main_1.") {
				t.Errorf("error %v, want one naming the sealed file that is not regular", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("reading a named pipe as a sealed file hangs")
		}
	}

	big := fstest.MapFS{
		"sealed/main_1.age":        {Data: []byte("x")},
		"sealed/main_1.recipients": {Data: make([]byte, MaxSealedFileSize+1)},
	}
	var tl *safefile.TooLargeError
	if _, err := Check(big, p, k); !errors.As(err, &tl) || !strings.Contains(err.Error(), "limit of 1 MiB") {
		t.Errorf("a record over the limit: %v", err)
	}
	if _, err := OpenFile(filepath.Join(dir, "missing.age")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing sealed file: %v, want fs.ErrNotExist", err)
	}
}

// unseal, reseal and publisher setup read the sealed file, the identity
// file and the secret key file through the same limits: a named pipe or
// /dev/zero given for any of them is refused at once.
func TestHostileKeyFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes or /dev/zero")
	}
	p, _ := testPolicy(t)
	k := p.Keys[0]
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, filepath.Dir(k.SealedFile)), 0o755)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fifo, filepath.Join(dir, k.SealedFile)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 4)
	go func() {
		_, err := OpenKey(dir, k, &Identities{Path: "id"})
		done <- err
	}()
	go func() {
		_, err := ReadIdentities(fifo, nil)
		done <- err
	}()
	go func() {
		_, err := ReadIdentities("/dev/zero", nil)
		done <- err
	}()
	go func() {
		_, err := ReadSecret(k, fifo)
		done <- err
	}()
	for range 4 {
		select {
		case err := <-done:
			var nr *safefile.NotRegularError
			if !errors.As(err, &nr) {
				t.Errorf("error %v, want a refusal of a file that is not regular", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("reading a named pipe as a key or identity file hangs")
		}
	}
}
