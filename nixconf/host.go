package nixconf

import (
	"github.com/keyform/keyform/internal/hint"

	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Host is what apply and verify need to know about the machine they run
// on, and how to run commands there. LocalHost describes this machine;
// tests describe any other.
type Host struct {
	// GOOS is the operating system ("linux", "darwin", ...): it decides
	// the daemon restart command.
	GOOS string
	// EUID is the effective user id: restart commands need sudo unless 0.
	EUID int
	// StoreDir is the Nix store (/nix/store, or NIX_STORE_DIR), which is
	// read-only: apply refuses files in it.
	StoreDir string
	// DaemonSocket is where a multi-user Nix's daemon listens; without it
	// Nix is a single-user install, which needs no restart.
	DaemonSocket string
	// LaunchDaemonsDir is where launchd's daemon definitions are on macOS
	// (/Library/LaunchDaemons): Determinate Nix's daemon has its own label.
	LaunchDaemonsDir string
	// Home is the user's home directory, or "" when unknown. The daemon
	// ignores trusted-public-keys from a file there unless the user is a
	// trusted user.
	Home string
	// Run runs a command (a daemon restart), its output going to the user.
	Run func(argv []string) error
	// Output runs a command and returns its standard output and standard
	// error ("nix config show"). env is the command's whole environment;
	// nil means the process's own. A missing program is an error wrapping
	// exec.ErrNotFound.
	Output func(argv, env []string) (stdout, stderr []byte, err error)
	// Environ is the environment that commands with a changed one start
	// from (apply's Nix check removes Nix's configuration variables).
	Environ func() []string
	// TempDir is where apply's Nix check writes the file it asks Nix
	// about ("" is the operating system's default).
	TempDir string
	// NixPaths are where apply's Nix check looks for nix when it is not
	// on PATH: "sudo" usually resets PATH to one without a multi-user
	// install's profile.
	NixPaths []string
}

// LocalHost describes this machine: the running OS and user, Nix's
// NIX_STORE_DIR, NIX_DAEMON_SOCKET_PATH and NIX_STATE_DIR, and commands run
// with os/exec, their output on standard error.
func LocalHost() Host {
	h := hostFromEnv(os.Getenv)
	h.GOOS, h.EUID = runtime.GOOS, os.Geteuid()
	if home, err := os.UserHomeDir(); err == nil {
		h.Home = home
	}
	h.Run = func(argv []string) error {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	h.Output = func(argv, env []string) ([]byte, []byte, error) {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		return out, stderr.Bytes(), err
	}
	h.Environ = os.Environ
	h.NixPaths = []string{"/nix/var/nix/profiles/default/bin/nix"}
	return h
}

// hostFromEnv sets the paths that Nix's environment variables move.
func hostFromEnv(getenv func(string) string) Host {
	h := Host{StoreDir: "/nix/store", LaunchDaemonsDir: "/Library/LaunchDaemons"}
	if d := getenv("NIX_STORE_DIR"); d != "" {
		h.StoreDir = filepath.Clean(d)
	}
	h.DaemonSocket = getenv("NIX_DAEMON_SOCKET_PATH")
	if h.DaemonSocket == "" {
		state := "/nix/var/nix"
		if d := getenv("NIX_STATE_DIR"); d != "" {
			state = d
		}
		h.DaemonSocket = filepath.Join(state, "daemon-socket", "socket")
	}
	return h
}

// withHint attaches what to do about a failure or refusal, which the CLI
// prints on a "hint:" line (internal/hint).
func withHint(err error, fix string) error { return hint.Wrap(err, "%s", fix) }
