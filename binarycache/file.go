package binarycache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/internal/safefile"
)

// FileStore is a binary cache in a local directory, as written by
// `nix copy --to file:///dir`: nix-cache-info, HASH.narinfo per path and
// nar/.
type FileStore struct {
	dir     string
	d       *os.File // the directory, kept open: narinfos are opened relative to it
	dirFD   int
	info    Info
	maxSize int64
}

// OpenFile opens the binary cache in directory dir.
func OpenFile(dir string, o Options) (*FileStore, error) {
	dir = filepath.Clean(dir)
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("store file://%s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("store file://%s is not a directory", dir)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("store file://%s: %w", dir, err)
	}
	s := &FileStore{dir: dir, d: d, dirFD: int(d.Fd()), maxSize: o.maxSize()}
	text, err := s.readRegular("nix-cache-info", filepath.Join(dir, "nix-cache-info"), nil, 64<<10)
	if err != nil {
		d.Close()
	}
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store file://%s has no nix-cache-info: it is not a binary cache (nix copy --to file://%s writes one)", dir, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("store file://%s: %w", dir, err)
	}
	if s.info, err = parseCacheInfo(text, filepath.Join(dir, "nix-cache-info")); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir is the cache directory.
func (s *FileStore) Dir() string { return s.dir }

// URL returns "file://DIR".
func (s *FileStore) URL() string { return "file://" + s.dir }

// Info returns what nix-cache-info says.
func (s *FileStore) Info() Info { return s.info }

// NarinfoPath is where the narinfo for hash lives.
func (s *FileStore) NarinfoPath(hash string) string {
	return s.dir + string(filepath.Separator) + hash + ".narinfo"
}

// List streams the directory, a batch of entries at a time, and calls fn
// for every HASH.narinfo. Other names are skipped, as Nix skips them.
func (s *FileStore) List(ctx context.Context, fn func(hash string) error) error {
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", s.URL(), err)
	}
	defer d.Close()
	for {
		names, err := d.Readdirnames(1024)
		for _, name := range names {
			hash, ok := strings.CutSuffix(name, ".narinfo")
			if !ok || !validHash(hash) {
				continue
			}
			if err := fn(hash); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", s.URL(), err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// Get reads HASH.narinfo. Anything but a regular file (a directory, a
// FIFO, a device) is refused without reading from it, and so is a file
// larger than the size limit.
func (s *FileStore) Get(ctx context.Context, hash string, buf []byte) ([]byte, string, error) {
	if !validHash(hash) {
		return nil, "", fmt.Errorf("narinfo hash %.40q is not 32 nix32 characters", hash)
	}
	path := s.NarinfoPath(hash)
	data, err := s.readRegular(path[len(s.dir)+1:], path, buf, s.maxSize)
	return data, path, err
}

// Close releases the directory.
func (s *FileStore) Close() error { return s.d.Close() }

// Replace atomically replaces the narinfo for hash with data: a reader
// sees the old text or the new, never a mix. The new file keeps the old
// one's permissions. It is not synced: call [FileStore.Sync] once after
// a batch of replacements (one syncfs instead of an fsync per file).
func (s *FileStore) Replace(hash string, data []byte) error {
	if !validHash(hash) {
		return fmt.Errorf("narinfo hash %.40q is not 32 nix32 characters", hash)
	}
	path := s.NarinfoPath(hash)
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is %s, not a regular file: %w", path, safefile.TypeName(fi.Mode()), ErrRefused)
	}
	o := atomicfile.Options{Perm: fi.Mode().Perm(), NoSync: true}
	if uid, gid, ok := atomicfile.Owner(fi); ok {
		o.Chown, o.UID, o.GID = true, uid, gid
	}
	return atomicfile.Write(path, data, o)
}

// Sync makes every Replace so far durable.
func (s *FileStore) Sync() error {
	return atomicfile.Durable(s.dir)
}
