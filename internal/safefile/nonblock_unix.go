//go:build unix

package safefile

import "syscall"

// openFlags makes open(2) return at once on a named pipe with no writer,
// instead of waiting for one. Regular files, the only ones read, ignore it.
const openFlags = syscall.O_NONBLOCK
