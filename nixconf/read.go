package nixconf

import (
	"github.com/keyform/keyform/internal/safefile"
)

// Limits on what keyform reads as nix.conf. A nix.conf is a few KiB; the
// benchmarks use a 10 MB one (BENCHMARKS.md). Anything but a regular file
// (a named pipe, /dev/zero) is refused before it is read.
const (
	// MaxConfFileSize caps nix.conf and each file it includes.
	MaxConfFileSize = 32 << 20
	// MaxShownConfigSize caps "nix config show" output given to verify
	// (a few hundred KiB at most).
	MaxShownConfigSize = 16 << 20
)

// ReadFile is the ReadFunc for the real file system: it reads a nix.conf
// or an included file, refusing non-regular files and files larger than
// MaxConfFileSize with an error naming the file and the limit. A missing
// file's error wraps fs.ErrNotExist, as "!include" needs. Pass it to
// Evaluate, PlanApply and CheckApplied instead of os.ReadFile.
func ReadFile(path string) ([]byte, error) {
	return safefile.ReadFile(path, MaxConfFileSize)
}

// ReadShownConfigFile reads "nix config show" output captured in a file
// (verify --config FILE) under the same rules, capped at
// MaxShownConfigSize.
func ReadShownConfigFile(path string) ([]byte, error) {
	return safefile.ReadFile(path, MaxShownConfigSize)
}
