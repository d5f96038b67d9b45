//go:build unix

package nixconf

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive flock(2) on the directory dir, waiting for
// another apply's, and returns its release. A directory keeps its inode
// while files in it are replaced, so this lock guards their replacement
// without a lock file.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// checkWritable tells, before the lock and the write, why the file could
// not be replaced: replacing needs the file writable (access(2) refuses an
// immutable file or a read-only file system even to root) and its
// directory writable (the new file is created there and renamed over the
// old one). A new file's directory may not exist yet: its nearest existing
// ancestor must be writable then.
func (c *ConfFile) checkWritable() error {
	if c.Exists {
		if err := syscall.Access(c.Real, w_OK); err != nil {
			return c.accessError("replace", err)
		}
	}
	dir := filepath.Dir(c.Real)
	for {
		err := syscall.Access(dir, w_OK|x_OK)
		if errors.Is(err, syscall.ENOENT) && !c.Exists && filepath.Dir(dir) != dir {
			dir = filepath.Dir(dir)
			continue
		}
		if err != nil {
			return c.accessError("replace", err)
		}
		return nil
	}
}

// access(2) modes (syscall has no names for them on every system).
const (
	w_OK = 0x2
	x_OK = 0x1
)
