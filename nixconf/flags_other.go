//go:build !linux

package nixconf

// hasFlag and flagDesc read chattr's flags, which only Linux has; on other
// systems an EPERM is explained without naming the flag (chflags uchg on
// macOS has the same effect).
func hasFlag(string) bool    { return false }
func flagDesc(string) string { return "immutable or append-only" }
