// Package safefile reads the files a policy names (HCL files, public key
// files, sealed keys, nix.conf and its includes) without trusting them:
// anything but a regular file is refused before a byte is read, so a
// named pipe or /dev/zero committed in a pull request cannot hang or
// exhaust CI, and every read is capped at a limit the caller chooses for
// the kind of file.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// NotRegularError says a file is a directory, pipe, socket or device.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, TypeName(e.Mode))
}

// TooLargeError says a file is larger than the limit for its kind. Size is
// what the file system reported, or Limit+1 when the file grew while it was
// read.
type TooLargeError struct {
	Path  string
	Size  int64
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %s, larger than the limit of %s", e.Path, Size(e.Size), Size(e.Limit))
}

// TypeName names a non-regular file's type for messages ("a named pipe").
func TypeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m.IsRegular():
		return "a regular file"
	}
	return "a special file (" + m.Type().String() + ")"
}

// Size prints a byte count the way limits are given: "4 MiB", "64 KiB",
// "1.5 GiB", "123 bytes".
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	v, suffix := float64(n), ""
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= unit
		suffix = s
		if v < unit {
			break
		}
	}
	s := fmt.Sprintf("%.1f", v)
	switch {
	case v == float64(int64(v)):
		return fmt.Sprintf("%d %s", int64(v), suffix)
	case strings.HasSuffix(s, ".0"):
		// Just over a limit would read as the limit itself.
		return fmt.Sprintf("%d bytes", n)
	}
	return s + " " + suffix
}

// ReadFile reads the file at path, refusing anything but a regular file
// (symlinks are followed) and anything larger than limit bytes. The file is
// opened without blocking, so a named pipe is refused instead of waiting
// for a writer. Errors from the file system are returned as os.ReadFile
// returns them (*fs.PathError).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(f, path, limit)
}

// ReadFileFS is ReadFile for a file of fsys. An fs.FS cannot be asked to
// open without blocking, so the file is stat'ed first and opened only when
// it is a regular file, then checked again once open.
func ReadFileFS(fsys fs.FS, name string, limit int64) ([]byte, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := check(name, fi, limit); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(f, name, limit)
}

// Open opens the file at path for reading as ReadFile does, checking its
// type and size; the caller reads it, at most limit bytes of it.
func Open(path string, limit int64) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = check(path, fi, limit)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func check(name string, fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return &NotRegularError{Path: name, Mode: fi.Mode()}
	}
	if fi.Size() > limit {
		return &TooLargeError{Path: name, Size: fi.Size(), Limit: limit}
	}
	return nil
}

// read checks the open file f and reads it whole, failing when it holds
// more than limit bytes (it may have grown since it was stat'ed).
func read(f fs.File, name string, limit int64) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := check(name, fi, limit); err != nil {
		return nil, err
	}
	size := fi.Size()
	buf := make([]byte, 0, min(size, limit)+1)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &TooLargeError{Path: name, Size: int64(len(buf)), Limit: limit}
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}
