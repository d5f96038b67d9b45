package secretfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// NotWritableError says that a secret key file cannot be created at Path:
// Dir, the nearest directory of it that exists, is not writable by this
// process (Err says why: permission denied, a read-only file system).
type NotWritableError struct {
	Path, Dir string
	Err       error
}

func (e *NotWritableError) Error() string {
	return fmt.Sprintf("cannot create %s: %s is not writable (%s)", e.Path, e.Dir, reason(e.Err))
}

func (e *NotWritableError) Unwrap() error { return e.Err }

func reason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// CheckWritable reports whether a secret key file could be created at
// path, creating its missing parent directories, without creating
// anything: so that a command that installs several keys finds out before
// it installs the first, and can say how to pick another directory.
func CheckWritable(path string) error {
	dir := filepath.Dir(path)
	for {
		fi, err := os.Stat(dir)
		switch {
		case err == nil && !fi.IsDir():
			return &NotWritableError{Path: path, Dir: dir, Err: syscall.ENOTDIR}
		case err == nil:
			if err := canWrite(dir); err != nil {
				return &NotWritableError{Path: path, Dir: dir, Err: err}
			}
			return nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return &NotWritableError{Path: path, Dir: dir, Err: err}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}
