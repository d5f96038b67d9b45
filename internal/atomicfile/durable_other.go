//go:build !linux

package atomicfile

import (
	"os"
	"path/filepath"
)

// Durable makes the named files, written without fsync, and their
// directory entries durable, so they survive a power loss: an fsync of
// every file and of each directory holding one.
func Durable(paths ...string) error {
	dirs := map[string]bool{}
	for _, p := range paths {
		if err := syncPath(p); err != nil {
			return err
		}
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		// Not every system can sync a directory; the files are synced.
		syncPath(d)
	}
	return nil
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
