// Package atomicfile replaces files so that a reader (or a crash) sees
// either the old content or the new, never a mix.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Options say what the new file looks like besides its content.
type Options struct {
	Perm fs.FileMode
	// Chown gives the file UID and GID (keeping an existing file's owner
	// when root rewrites it). Without it the file belongs to the caller.
	Chown    bool
	UID, GID int
}

// testHook, when set by a test, runs at named stages of Write: "half" when
// half the data is written, "rename" just before the rename. An error from
// it fails the write there.
var testHook func(stage string) error

func hook(stage string) error {
	if testHook == nil {
		return nil
	}
	return testHook(stage)
}

// WriteFile writes data to a temporary file in path's directory, syncs it,
// gives it perm, and renames it over path. On error path is untouched and
// the temporary file is removed.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, data, Options{Perm: perm})
}

// Write is WriteFile with Options. The owner is set on the temporary file,
// before the rename: if that is not allowed, path is left as it was.
func Write(path string, data []byte, o Options) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".keyform-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	half := len(data) / 2
	if _, err = f.Write(data[:half]); err != nil {
		return err
	}
	if err = hook("half"); err != nil {
		return err
	}
	if _, err = f.Write(data[half:]); err != nil {
		return err
	}
	if err = f.Chmod(o.Perm); err != nil {
		return err
	}
	if o.Chown {
		if uid, gid, ok := Owner(mustStat(f)); !ok || uid != o.UID || gid != o.GID {
			if err = f.Chown(o.UID, o.GID); err != nil {
				return fmt.Errorf("keep owner %d:%d of %s: %w", o.UID, o.GID, path, err)
			}
			// chown may clear setuid/setgid bits; set the mode again.
			if err = f.Chmod(o.Perm); err != nil {
				return err
			}
		}
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = hook("rename"); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	// Sync the directory so the rename itself survives a crash.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func mustStat(f *os.File) fs.FileInfo {
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	return fi
}
