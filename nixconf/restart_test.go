package nixconf

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestHostFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env           map[string]string
		store, socket string
	}{
		{nil, "/nix/store", "/nix/var/nix/daemon-socket/socket"},
		{map[string]string{"NIX_STORE_DIR": "/srv/store/", "NIX_STATE_DIR": "/srv/state"}, "/srv/store", "/srv/state/daemon-socket/socket"},
		{map[string]string{"NIX_STATE_DIR": "/srv/state", "NIX_DAEMON_SOCKET_PATH": "/run/nix.sock"}, "/nix/store", "/run/nix.sock"},
	} {
		h := hostFromEnv(func(k string) string { return tc.env[k] })
		if h.StoreDir != tc.store || h.DaemonSocket != tc.socket || h.LaunchDaemonsDir != "/Library/LaunchDaemons" {
			t.Errorf("%v: store %q socket %q launchd %q", tc.env, h.StoreDir, h.DaemonSocket, h.LaunchDaemonsDir)
		}
	}
}

// TestPlanRestart: the restart command per OS, user and daemon.
func TestPlanRestart(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "daemon-socket")
	write(t, socket, "")
	launchd := filepath.Join(dir, "LaunchDaemons")
	determinate := filepath.Join(dir, "DeterminateLaunchDaemons")
	write(t, filepath.Join(determinate, "systems.determinate.nix-daemon.plist"), "")
	kickstart := func(label string) [][]string {
		c := []string{"sudo", "launchctl", "kickstart", "-k", label}
		return [][]string{c, c}
	}
	for _, tc := range []struct {
		name     string
		h        Host
		daemon   bool
		commands [][]string
	}{
		{"linux", Host{GOOS: "linux", EUID: 1000, DaemonSocket: socket}, true, [][]string{{"sudo", "systemctl", "restart", "nix-daemon"}}},
		{"linux root", Host{GOOS: "linux", EUID: 0, DaemonSocket: socket}, true, [][]string{{"systemctl", "restart", "nix-daemon"}}},
		{"single-user", Host{GOOS: "linux", EUID: 1000, DaemonSocket: filepath.Join(dir, "none")}, false, nil},
		{"darwin", Host{GOOS: "darwin", EUID: 501, DaemonSocket: socket, LaunchDaemonsDir: launchd}, true, kickstart("system/org.nixos.nix-daemon")},
		{"darwin determinate", Host{GOOS: "darwin", EUID: 501, DaemonSocket: socket, LaunchDaemonsDir: determinate}, true, kickstart("system/systems.determinate.nix-daemon")},
		{"darwin root", Host{GOOS: "darwin", EUID: 0, DaemonSocket: socket, LaunchDaemonsDir: launchd}, true, [][]string{
			{"launchctl", "kickstart", "-k", "system/org.nixos.nix-daemon"}, {"launchctl", "kickstart", "-k", "system/org.nixos.nix-daemon"}}},
		{"other OS", Host{GOOS: "freebsd", EUID: 1000, DaemonSocket: socket}, true, nil},
	} {
		r := tc.h.PlanRestart("/etc/nix/nix.conf")
		if r.Daemon != tc.daemon || !reflect.DeepEqual(r.Commands, tc.commands) || (r.Why != "") != (tc.h.GOOS == "darwin") || r.UserFile {
			t.Errorf("%s: daemon %v, commands %q, why %q", tc.name, r.Daemon, r.Commands, r.Why)
		}
	}
}

func TestRestartAdvise(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "daemon-socket")
	write(t, socket, "")
	var ran [][]string
	fail := ""
	h := Host{GOOS: "darwin", EUID: 0, DaemonSocket: socket, LaunchDaemonsDir: dir, Home: "/home/ann",
		Run: func(argv []string) error {
			ran = append(ran, argv)
			if strings.Join(argv, " ") == fail {
				return errors.New("exit status 1")
			}
			return nil
		}}
	advise := func(h Host, path string, run bool) (string, error) {
		var b strings.Builder
		err := h.PlanRestart(path).Advise(&b, run)
		return b.String(), err
	}

	out, err := advise(h, "/etc/nix/nix.conf", false)
	want := "the Nix daemon reads nix.conf when it starts; restart it (twice: the first kickstart can return before launchd has started the new daemon, or fail transiently; the second makes sure it runs):\n" +
		"  launchctl kickstart -k system/org.nixos.nix-daemon\n" +
		"  launchctl kickstart -k system/org.nixos.nix-daemon\n"
	if err != nil || out != want || ran != nil {
		t.Errorf("advice:\n%s%v, ran %q\nwant:\n%s", out, err, ran, want)
	}

	out, err = advise(h, "/home/ann/.config/nix/nix.conf", true)
	want = "running: launchctl kickstart -k system/org.nixos.nix-daemon\n" +
		"running: launchctl kickstart -k system/org.nixos.nix-daemon\n"
	if err != nil || out != want || len(ran) != 2 {
		t.Errorf("run:\n%s%v, ran %q\nwant:\n%s", out, err, ran, want)
	}

	ran, fail = nil, "launchctl kickstart -k system/org.nixos.nix-daemon"
	_, err = advise(h, "/etc/nix/nix.conf", true)
	if msg, hint := hintOf(t, err); msg != "restart the Nix daemon: "+fail+": exit status 1" || hint != "/etc/nix/nix.conf is patched; restart the daemon yourself" || len(ran) != 1 {
		t.Errorf("failed restart: %q, hint %q, ran %q", msg, hint, ran)
	}

	for _, tc := range []struct {
		h    Host
		want string
	}{
		{Host{GOOS: "linux", DaemonSocket: filepath.Join(dir, "none")}, fmt.Sprintf("single-user install (no Nix daemon at %s): no restart needed, Nix reads the file at every start\n", filepath.Join(dir, "none"))},
		{Host{GOOS: "plan9", DaemonSocket: socket}, "restart the Nix daemon so that it reads /etc/nix/nix.conf again\n"},
	} {
		ran = nil
		tc.h.Run = h.Run
		if out, err := advise(tc.h, "/etc/nix/nix.conf", true); out != tc.want || err != nil || ran != nil {
			t.Errorf("%s: %q %v, ran %q", tc.h.GOOS, out, err, ran)
		}
	}
}

// TestReadShownConfig: "nix config show" where Nix has it, else "nix
// show-config"; when both fail, the last error with Nix's message.
func TestReadShownConfig(t *testing.T) {
	const out = `{"trusted-public-keys":{"value":[]}}`
	for _, tc := range []struct {
		name   string
		has    []string // subcommands the fake nix knows
		source string
		err    string
	}{
		{"nix 2.20", []string{"config show", "show-config"}, "nix config show", ""},
		{"nix 2.8", []string{"show-config"}, "nix show-config", ""},
		{"broken", nil, "", "nix --extra-experimental-features nix-command show-config --json: exit status 1: error: cannot open config"},
	} {
		var calls []string
		h := Host{Output: func(argv, _ []string) ([]byte, []byte, error) {
			calls = append(calls, strings.Join(argv, " "))
			sub := strings.Join(argv[3:len(argv)-1], " ")
			if argv[0] != "nix" || argv[len(argv)-1] != "--json" || !slices.Contains(tc.has, sub) {
				return nil, []byte("error: cannot open config\n"), errors.New("exit status 1")
			}
			return []byte(out), nil, nil
		}}
		data, source, err := h.ReadShownConfig()
		if tc.err != "" {
			if err == nil || err.Error() != tc.err || len(calls) != 2 {
				t.Errorf("%s: %v after %q", tc.name, err, calls)
			}
			continue
		}
		if err != nil || source != tc.source || string(data) != out {
			t.Errorf("%s: %q from %q, %v", tc.name, data, source, err)
		}
		if calls[0] != "nix --extra-experimental-features nix-command config show --json" {
			t.Errorf("%s: first ran %q", tc.name, calls[0])
		}
	}
}
