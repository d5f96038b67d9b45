//go:build !unix

package nixconf

import (
	"errors"
	"runtime"
)

// CallerAs is not available here: running a command as another user needs
// Unix credentials.
func CallerAs(name string, lookup func(string) (string, bool)) (Caller, error) {
	return Caller{}, errors.New("running nix as another user is not supported on " + runtime.GOOS)
}
