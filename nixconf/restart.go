package nixconf

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Restart is how to make the Nix daemon read a changed nix.conf.
type Restart struct {
	// Path is the changed file.
	Path string
	// UserFile says Path is in the user's home: the daemon ignores
	// trusted-public-keys from it unless the user is a trusted user.
	UserFile bool
	// Socket is the daemon's socket; Daemon says it exists. Without a
	// daemon (a single-user install) Nix reads the file at every start.
	Socket string
	Daemon bool
	// Commands restart the daemon on this OS (nil when keyform knows none),
	// and Why explains their shape.
	Commands [][]string
	Why      string

	run func(argv []string) error
}

// PlanRestart says whether a daemon runs and which commands restart it:
// "systemctl restart nix-daemon" on Linux; on macOS "launchctl kickstart -k"
// twice, for Determinate Nix's label if its plist is installed; with
// "sudo" in front unless EUID is 0.
func (h Host) PlanRestart(path string) *Restart {
	r := &Restart{Path: path, Socket: h.DaemonSocket, run: h.Run}
	if h.Home != "" && strings.HasPrefix(filepath.Clean(path), filepath.Clean(h.Home)+"/") {
		r.UserFile = true
	}
	if _, err := os.Stat(h.DaemonSocket); err != nil {
		return r
	}
	r.Daemon = true
	var sudo []string
	if h.EUID != 0 {
		sudo = []string{"sudo"}
	}
	switch h.GOOS {
	case "darwin":
		label := "system/org.nixos.nix-daemon"
		if _, err := os.Stat(filepath.Join(h.LaunchDaemonsDir, "systems.determinate.nix-daemon.plist")); err == nil {
			label = "system/systems.determinate.nix-daemon"
		}
		c := append(sudo, "launchctl", "kickstart", "-k", label)
		r.Commands = [][]string{c, c}
		r.Why = " (twice: the first kickstart can return before launchd has started the new daemon, or fail transiently; the second makes sure it runs)"
	case "linux":
		r.Commands = [][]string{append(sudo, "systemctl", "restart", "nix-daemon")}
	}
	return r
}

// Advise writes to w what to do about the daemon. With run set (apply
// --restart) and commands to run, it runs them with the Host's Run instead
// of listing them, each after a "running:" line, and stops at the first
// failure (a *hint.Error).
func (r *Restart) Advise(w io.Writer, run bool) error {
	switch {
	case !r.Daemon:
		fmt.Fprintf(w, "single-user install (no Nix daemon at %s): no restart needed, Nix reads the file at every start\n", r.Socket)
		return nil
	case r.Commands == nil:
		fmt.Fprintf(w, "restart the Nix daemon so that it reads %s again\n", r.Path)
		return nil
	case !run:
		fmt.Fprintf(w, "the Nix daemon reads nix.conf when it starts; restart it%s:\n", r.Why)
		for _, c := range r.Commands {
			fmt.Fprintf(w, "  %s\n", strings.Join(c, " "))
		}
		return nil
	}
	for _, c := range r.Commands {
		fmt.Fprintf(w, "running: %s\n", strings.Join(c, " "))
		if err := r.run(c); err != nil {
			return withHint(fmt.Errorf("restart the Nix daemon: %s: %w", strings.Join(c, " "), err), fmt.Sprintf("%s is patched; restart the daemon yourself", r.Path))
		}
	}
	return nil
}
