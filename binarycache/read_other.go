//go:build !unix

package binarycache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// readRegular reads the regular file name (path, for messages) in the
// store directory, of at most max bytes, into buf[:0].
func (s *FileStore) readRegular(name, path string, buf []byte, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: %w", path, ErrRefused)
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, more than the limit of %d: %w", path, fi.Size(), max, ErrRefused)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s grew past the limit of %d bytes while it was read: %w", path, max, ErrRefused)
	}
	return append(buf[:0], data...), nil
}
