//go:build unix

package atomicfile

import (
	"io/fs"
	"syscall"
)

// Owner returns a file's owner and group, where the system has them.
func Owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	if fi == nil {
		return 0, 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}
