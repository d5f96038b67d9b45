//go:build unix

package binarycache

import (
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// readRegular reads the regular file name (path, for messages) in the
// store directory, of at most max bytes, into buf[:0] with four system calls (openat relative to
// the open directory, so the kernel resolves one path component, fstat,
// read, close): with 100,000 narinfos, os.File's extra work (poller
// registration, a second read to see EOF, a finalizer) was a fifth of an
// audit's time.
func (s *FileStore) readRegular(name, path string, buf []byte, max int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer; it does not
	// change how regular files are read.
	const flags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY
	fd, err := unix.Openat(s.dirFD, name, flags, 0)
	for err == unix.EINTR {
		fd, err = unix.Openat(s.dirFD, name, flags, 0)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("%s is a %s, not a regular file: %w", path, unixKind(uint32(st.Mode)), ErrRefused)
	}
	if st.Size > max {
		return nil, fmt.Errorf("%s is %d bytes, more than the limit of %d: %w", path, st.Size, max, ErrRefused)
	}
	n := int(st.Size)
	if cap(buf) < n+1 {
		buf = make([]byte, 0, n+512)
	}
	// Ask for one byte more than the size: a short read of a regular file
	// is its end, and a full one means it grew.
	buf = buf[:n+1]
	got := 0
	for {
		m, err := unix.Read(fd, buf[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		got += m
		if m == 0 || got == len(buf) || got >= n {
			break
		}
	}
	if got > n {
		return nil, fmt.Errorf("%s grew while it was read: is something writing the cache?", path)
	}
	return buf[:got], nil
}

func unixKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFIFO:
		return "named pipe"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "device"
	}
	return "special file"
}
