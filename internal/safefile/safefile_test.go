package safefile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

// hostile returns files a pull request could plant: a named pipe with no
// writer (open(2) would wait forever), /dev/zero (endless), a symlink to
// it, and a directory.
func hostile(t *testing.T) (dir string, names []string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes or /dev/zero")
	}
	dir = t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, []string{"fifo", "zero", "dir"}
}

// within fails the test when f takes more than a few seconds: a hang is
// the bug these tests exist for, so it must fail rather than time out.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s hangs", what)
	}
}

func TestRefusesNonRegular(t *testing.T) {
	dir, names := hostile(t)
	want := map[string]string{"fifo": "a named pipe", "zero": "a character device", "dir": "a directory"}
	for _, name := range append(names, "/dev/zero") {
		path := name
		if !filepath.IsAbs(name) {
			path = filepath.Join(dir, name)
		}
		within(t, "ReadFile("+name+")", func() {
			_, err := ReadFile(path, 1<<20)
			var nr *NotRegularError
			if !errors.As(err, &nr) {
				t.Errorf("ReadFile(%s) = %v, want a NotRegularError", name, err)
				return
			}
			if w := want[filepath.Base(name)]; w != "" && !bytes.Contains([]byte(err.Error()), []byte(w)) {
				t.Errorf("ReadFile(%s): %q does not say %q", name, err, w)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(path)) {
				t.Errorf("error %q does not name %s", err, path)
			}
		})
		within(t, "Open("+name+")", func() {
			if f, err := Open(path, 1<<20); err == nil {
				f.Close()
				t.Errorf("Open(%s) succeeded", name)
			}
		})
	}
	fsys := os.DirFS(dir)
	for _, name := range names {
		within(t, "ReadFileFS("+name+")", func() {
			_, err := ReadFileFS(fsys, name, 1<<20)
			var nr *NotRegularError
			if !errors.As(err, &nr) {
				t.Errorf("ReadFileFS(%s) = %v, want a NotRegularError", name, err)
			}
		})
	}
}

func TestLimit(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("0123456789"), 0o644)
	// A sparse 200 MB file: refused from its size, without reading it.
	big := filepath.Join(dir, "big.hcl")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(200 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if b, err := ReadFile(small, 10); err != nil || string(b) != "0123456789" {
		t.Errorf("at the limit: %q, %v", b, err)
	}
	if b, err := ReadFileFS(os.DirFS(dir), "small", 10); err != nil || string(b) != "0123456789" {
		t.Errorf("ReadFileFS at the limit: %q, %v", b, err)
	}
	var tl *TooLargeError
	if _, err := ReadFile(small, 9); !errors.As(err, &tl) || tl.Limit != 9 {
		t.Errorf("over the limit: %v", err)
	}
	start := time.Now()
	_, err = ReadFile(big, 4<<20)
	if !errors.As(err, &tl) || err.Error() != big+" is 200 MiB, larger than the limit of 4 MiB" {
		t.Errorf("200 MB file: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing a 200 MB file took %v", d)
	}
	if _, err := ReadFileFS(os.DirFS(dir), "big.hcl", 4<<20); !errors.As(err, &tl) {
		t.Errorf("ReadFileFS, 200 MB file: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := ReadFileFS(os.DirFS(dir), "missing", 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFileFS, missing file: %v, want fs.ErrNotExist", err)
	}
}

// lyingFS reports a small size but serves more bytes: the read itself
// must stop at the limit.
type lyingFS struct{ fstest.MapFS }

type lyingInfo struct{ fs.FileInfo }

func (lyingInfo) Size() int64 { return 1 }

func (l lyingFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := l.MapFS.Stat(name)
	return lyingInfo{fi}, err
}

type lyingFile struct{ fs.File }

func (f lyingFile) Stat() (fs.FileInfo, error) {
	fi, err := f.File.Stat()
	return lyingInfo{fi}, err
}

func (l lyingFS) Open(name string) (fs.File, error) {
	f, err := l.MapFS.Open(name)
	return lyingFile{f}, err
}

func TestLimitWhileReading(t *testing.T) {
	fsys := lyingFS{fstest.MapFS{"f": {Data: bytes.Repeat([]byte("x"), 100)}}}
	var tl *TooLargeError
	if _, err := ReadFileFS(fsys, "f", 50); !errors.As(err, &tl) {
		t.Errorf("a file larger than its stat: %v", err)
	}
	if b, err := ReadFileFS(fsys, "f", 100); err != nil || len(b) != 100 {
		t.Errorf("read %d bytes, %v", len(b), err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1: "1 byte", 1023: "1023 bytes", 1024: "1 KiB", 64 << 10: "64 KiB", 4 << 20: "4 MiB", 1536 << 20: "1.5 GiB", 32<<20 + 1: "33554433 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
