package nixconf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/lockedfile"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/internal/safefile"
)

// InStore reports whether the absolute path p is in the Nix store.
func (h Host) InStore(p string) bool {
	return p == h.StoreDir || strings.HasPrefix(p, h.StoreDir+"/")
}

// CheckConfFile refuses a nix.conf that apply must not edit and returns the
// file to write: path itself, or the file a symlink leads to. It refuses a
// file in the Nix store or a symlink into it (NixOS and nix-darwin generate
// those), a symlink that leads nowhere and anything but a regular file. A
// missing file is fine: apply creates it. Refusals are *hint.Error.
func (h Host) CheckConfFile(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if h.InStore(abs) {
		return "", withHint(fmt.Errorf("%s is in the Nix store, which is read-only", path), "on NixOS or nix-darwin use a nixos or darwin target and rebuild")
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err != nil {
		return "", err
	}
	real := path
	if fi.Mode()&fs.ModeSymlink != 0 {
		real, err = filepath.EvalSymlinks(path)
		if err != nil {
			return "", withHint(fmt.Errorf("%s is a symlink that leads nowhere: %w", path, errors.Unwrap(err)), "point it at a file, or remove it so keyform creates one")
		}
		if h.InStore(real) {
			return "", withHint(fmt.Errorf("%s is a symlink into the Nix store (%s): NixOS or nix-darwin generates it, and it is read-only", path, real),
				"use a nixos or darwin target: \"keyform render\", import the module and rebuild; \"keyform verify\" checks the result")
		}
		if fi, err = os.Stat(real); err != nil {
			return "", err
		}
	}
	if !fi.Mode().IsRegular() {
		return "", withHint(fmt.Errorf("%s is not a regular file (%s)", path, fileType(fi.Mode())), "point the target's path (or --file) at a nix.conf file")
	}
	return real, nil
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// ConfFile is a nix.conf that apply reads and may write.
type ConfFile struct {
	// Path names the file as the target (or --file) does; Nix resolves
	// includes relative to it.
	Path string
	// Real is the file to write: Path, or where its symlink leads.
	Real string
	// Data is the current content (nil when the file does not exist).
	Data []byte
	// Exists reports whether the file exists; apply creates it if not.
	Exists bool
	// Info is the existing file's, whose mode and owner a write keeps.
	Info fs.FileInfo

	unlock func()
}

// OpenConf reads the nix.conf at path, which CheckConfFile resolved to real.
// With lock set (apply writes), it first creates real's directory and takes
// the lock PATH.keyform.lock, so that concurrent applies take turns; Close
// releases it. The file is checked again once read: it may have changed
// since CheckConfFile.
func (h Host) OpenConf(path, real string, lock bool) (*ConfFile, error) {
	c := &ConfFile{Path: path, Real: real}
	if lock {
		if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
			return nil, err
		}
		unlock, err := lockedfile.MutexAt(real + ".keyform.lock").Lock()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		c.unlock = unlock
	}
	if err := c.read(); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := h.CheckConfFile(path); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close releases the lock, if OpenConf took one.
func (c *ConfFile) Close() {
	if c.unlock != nil {
		c.unlock()
		c.unlock = nil
	}
}

// read reads the file to patch; a missing file reads as empty.
func (c *ConfFile) read() error {
	// safefile refuses a pipe or device without blocking on it, and a
	// file over MaxConfFileSize.
	f, err := safefile.Open(c.Real, MaxConfFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if c.Data, err = io.ReadAll(io.LimitReader(f, MaxConfFileSize+1)); err != nil {
		return err
	}
	if len(c.Data) > MaxConfFileSize {
		return &safefile.TooLargeError{Path: c.Real, Size: int64(len(c.Data)), Limit: MaxConfFileSize}
	}
	c.Exists, c.Info = true, fi
	return nil
}

// Write replaces the file atomically with data (same directory, fsync,
// rename), keeping its mode, owner and group; a new file gets mode 0644.
// With backup, the previous content of an existing file is kept first in
// REAL.bak, whose path Write returns ("" when it kept none).
func (c *ConfFile) Write(data []byte, backup bool) (backupPath string, err error) {
	opts := atomicfile.Options{Perm: 0o644}
	if c.Info != nil {
		opts.Perm = c.Info.Mode().Perm()
		opts.UID, opts.GID, opts.Chown = atomicfile.Owner(c.Info)
	}
	if backup && c.Exists {
		backupPath = c.Real + ".bak"
		if err := atomicfile.Write(backupPath, c.Data, opts); err != nil {
			return "", fmt.Errorf("backup: %w", err)
		}
	}
	if err := atomicfile.Write(c.Real, data, opts); err != nil {
		return "", err
	}
	return backupPath, nil
}
