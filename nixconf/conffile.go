package nixconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

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
// missing file is not refused here: apply creates it only with --create.
// Refusals are *hint.Error.
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
		return "", (&ConfFile{Path: path, Real: path, host: h}).accessError("read", err)
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
		return "", withHint(fmt.Errorf("%s is not a regular file (%s)", path, safefile.TypeName(fi.Mode())), "point the target's path (or --file) at a nix.conf file")
	}
	return real, nil
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
	// Exists reports whether the file exists; apply creates it if not
	// (with --create).
	Exists bool
	// Info is the existing file's, whose mode and owner a write keeps.
	Info fs.FileInfo

	host   Host
	unlock func()
}

// OpenConf reads the nix.conf at path, which CheckConfFile resolved to
// real, without a lock: apply decides whether anything needs writing
// before it takes one (Lock), so that a file already right needs no write
// access at all. A file it cannot read is an *AccessError.
func (h Host) OpenConf(path, real string) (*ConfFile, error) {
	c := &ConfFile{Path: path, Real: real, host: h}
	if err := c.read(); err != nil {
		return nil, err
	}
	return c, nil
}

// Lock prepares to replace the file: it checks that the file and its
// directory can be written (an *AccessError says why not: permissions, a
// read-only file system, an immutable file), creates the directory of a
// new file, and takes an exclusive lock on that directory, so that
// concurrent applies take turns. The lock is flock(2) on the directory
// itself: no lock file is created, so none is left behind or read as
// configuration. Lock then reads the file again and reports whether it
// changed since OpenConf, in which case the plan must be made again.
// Close releases the lock.
func (c *ConfFile) Lock() (changed bool, err error) {
	if err := c.checkWritable(); err != nil {
		return false, err
	}
	dir := filepath.Dir(c.Real)
	if !c.Exists {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, c.accessError("create the directory of", err)
		}
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return false, c.accessError("lock the directory of", err)
	}
	c.unlock = unlock
	old, existed := c.Data, c.Exists
	c.Data, c.Exists, c.Info = nil, false, nil
	if err := c.read(); err != nil {
		c.Close()
		return false, err
	}
	// The file may have been replaced by a symlink since CheckConfFile.
	if real, err := c.host.CheckConfFile(c.Path); err != nil || real != c.Real {
		c.Close()
		if err == nil {
			err = fmt.Errorf("%s changed while keyform read it (it now leads to %s); run keyform apply again", c.Path, real)
		}
		return false, err
	}
	return existed != c.Exists || !bytes.Equal(old, c.Data), nil
}

// Close releases the lock, if Lock took one.
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
		return c.accessError("read", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	// Sized from fstat, the read takes one buffer where io.ReadAll's
	// doubling allocated three times a large file's size.
	var buf bytes.Buffer
	buf.Grow(int(min(max(fi.Size(), 0), MaxConfFileSize)) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxConfFileSize+1)); err != nil {
		return c.accessError("read", err)
	}
	c.Data = buf.Bytes()
	if len(c.Data) > MaxConfFileSize {
		return &safefile.TooLargeError{Path: c.Real, Size: int64(len(c.Data)), Limit: MaxConfFileSize}
	}
	c.Exists, c.Info = true, fi
	return nil
}

// Write replaces the file atomically with data (same directory, fsync,
// rename), keeping its mode, owner and group; a new file gets mode 0644.
// With backup, the previous content of an existing file is kept first in
// REAL.bak, whose path Write returns ("" when it kept none). Errors that
// access explains are *AccessError.
func (c *ConfFile) Write(data []byte, backup bool) (backupPath string, err error) {
	opts := atomicfile.Options{Perm: 0o644}
	if c.Info != nil {
		opts.Perm = c.Info.Mode().Perm()
		opts.UID, opts.GID, opts.Chown = atomicfile.Owner(c.Info)
	}
	if backup && c.Exists {
		backupPath = c.Real + ".bak"
		if err := atomicfile.Write(backupPath, c.Data, opts); err != nil {
			return "", c.accessError("write the backup of", err)
		}
	}
	if err := atomicfile.Write(c.Real, data, opts); err != nil {
		return "", c.accessError("replace", err)
	}
	return backupPath, nil
}

// AccessError is a file apply cannot read, lock or replace, with why in
// words rather than as a raw system error.
type AccessError struct {
	Path string
	Op   string // "read", "replace", ...
	Why  string
	Err  error
	// NeedsRoot says root could do it: the CLI suggests sudo.
	NeedsRoot bool
	// Hint says what to do otherwise ("" when NeedsRoot).
	Hint string
}

func (e *AccessError) Error() string { return fmt.Sprintf("cannot %s %s: %s", e.Op, e.Path, e.Why) }
func (e *AccessError) Unwrap() error { return e.Err }

// accessError explains err, from doing op to the file: a read-only file
// system, an immutable or append-only file or directory, missing
// permissions. Other errors are returned as they are.
func (c *ConfFile) accessError(op string, err error) error {
	e := &AccessError{Path: c.Path, Op: op, Err: err}
	switch {
	case errors.Is(err, syscall.EROFS):
		e.Why = "it is on a read-only file system"
		e.Hint = "remount it read-write, or change the file where it is generated (on NixOS or nix-darwin, a nixos or darwin target)"
	case errors.Is(err, syscall.EBUSY):
		// rename(2) cannot replace a mount point: a file bind-mounted on
		// its own, as containers mount a host's nix.conf.
		e.Why = "it is a mount point (a file mounted on its own, as a container mounts it), which cannot be replaced"
		e.Hint = "edit the file it is mounted from, or run keyform apply where that file lives"
	case errors.Is(err, syscall.EPERM):
		// Returned for writes to an immutable or append-only file (chattr
		// +i, +a; chflags uchg on macOS), even to root.
		p, what := c.Real, "the file"
		if !c.Exists || !hasFlag(c.Real) && hasFlag(filepath.Dir(c.Real)) {
			p, what = filepath.Dir(c.Real), "its directory"
		}
		e.Why = fmt.Sprintf("%s is %s, which refuses every change, even root's", what, flagDesc(p))
		e.Hint = fmt.Sprintf("if keyform should manage it, remove the flag (chattr -i -a %s), then run keyform apply again", p)
	case errors.Is(err, fs.ErrPermission):
		e.Why = "permission denied"
		if c.host.EUID == 0 {
			e.Hint = "check the permissions of the file and its directory"
			break
		}
		if c.Info != nil {
			if uid, _, ok := atomicfile.Owner(c.Info); ok && uid == c.host.EUID && op == "replace" {
				e.Why = "permission denied (the file is read-only)"
				e.Hint = fmt.Sprintf("make it writable (chmod u+w %s) if keyform should edit it", c.Real)
				break
			}
		}
		e.NeedsRoot = true
	default:
		return fmt.Errorf("%s %s: %w", op, c.Path, err)
	}
	return e
}
