package nixtest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// RequireRoot skips a test that needs root (a Nix daemon, another user),
// or fails it under KEYFORM_REQUIRE_NIX=1, where CI runs as root and a
// skip would hide the check.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv(EnvRequire) == defaultRequireValue {
		t.Fatalf("%s=1 but the test is not running as root, which this check needs", EnvRequire)
	}
	t.Skip("needs root")
}

// StartDaemon runs this version's nix-daemon, reading confDir/nix.conf,
// on a socket in a new temporary directory (readable by everyone, so
// another user's client can connect), and stops it when the test ends. It
// returns the socket's path: clients reach it with NIX_REMOTE=daemon and
// NIX_DAEMON_SOCKET_PATH. The daemon serves this version's store (Nix
// 2.26's is the chroot's), so it needs root.
func (n *Nix) StartDaemon(t testing.TB, confDir string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nixtest-daemon-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "socket")
	cmd := n.Command("nix-daemon")
	cmd.Env = append(cmd.Env, "NIX_CONF_DIR="+confDir, "NIX_DAEMON_SOCKET_PATH="+socket)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		n.Fatalf(t, "nix-daemon: %v", err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	// The wrappers exec, so the process is the daemon itself: killing it
	// closes the socket; its per-connection children end with their
	// clients.
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(socket); err == nil {
			return socket
		}
		select {
		case <-exited:
			n.Fatalf(t, "nix-daemon exited before listening: %v\n%s", waitErr, log.Bytes())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited // the log is complete only then
			n.Fatalf(t, "nix-daemon did not create %s within 20 s\n%s", socket, log.Bytes())
		}
	}
}
