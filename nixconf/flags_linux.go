package nixconf

import (
	"os"

	"golang.org/x/sys/unix"
)

// Inode flags of chattr(1) that make the system refuse changes.
const (
	fsImmutable  = 0x10 // FS_IMMUTABLE_FL, chattr +i
	fsAppendOnly = 0x20 // FS_APPEND_FL, chattr +a
)

func inodeFlags(path string) uint32 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		return 0
	}
	return flags
}

// hasFlag reports whether path is immutable or append-only.
func hasFlag(path string) bool { return inodeFlags(path)&(fsImmutable|fsAppendOnly) != 0 }

// flagDesc says which of the flags path has: "immutable (chattr +i)".
func flagDesc(path string) string {
	switch fl := inodeFlags(path); {
	case fl&fsImmutable != 0:
		return "immutable (chattr +i)"
	case fl&fsAppendOnly != 0:
		return "append-only (chattr +a)"
	}
	return "immutable or append-only"
}
