package nixconf

import (
	"slices"
	"testing"
)

// TestUserEnv: a command run as another user gets that user's HOME and
// names, the system's Nix variables from the caller, and none of the
// caller's own configuration (NIX_CONFIG, XDG_CONFIG_HOME, ...).
func TestUserEnv(t *testing.T) {
	caller := envOf(map[string]string{
		"HOME": "/root", "USER": "root", "PATH": "/usr/bin", "NIX_CONF_DIR": "/opt/nix", "NIX_REMOTE": "daemon",
		"NIX_CONFIG": "trusted-public-keys = x:y", "NIX_USER_CONF_FILES": "/root/n.conf", "XDG_CONFIG_HOME": "/root/.config",
		"NIX_CONFIG_HOME": "/root/nix", "XDG_CONFIG_DIRS": "/etc/xdg", "SSH_AUTH_SOCK": "/tmp/agent",
	})
	env := userEnv("ann", "/home/ann", caller)
	want := []string{"HOME=/home/ann", "USER=ann", "LOGNAME=ann", "PATH=/usr/bin", "NIX_CONF_DIR=/opt/nix", "NIX_REMOTE=daemon", "XDG_CONFIG_DIRS=/etc/xdg"}
	if !slices.Equal(env, want) {
		t.Errorf("env %q\nwant %q", env, want)
	}
	lookup := envLookup(append(env, "HOME=/elsewhere"))
	if v, ok := lookup("HOME"); !ok || v != "/elsewhere" {
		t.Errorf("HOME = %q, %v: the last entry wins", v, ok)
	}
	if _, ok := lookup("NIX_CONFIG"); ok {
		t.Error("NIX_CONFIG is set")
	}
	s := ConfSourcesOf(lookup, "/home/ann")
	if !slices.Equal(s.User, []string{"/etc/xdg/nix/nix.conf", "/elsewhere/.config/nix/nix.conf"}) || s.System != "/opt/nix/nix.conf" || s.NixConfigSet {
		t.Errorf("sources %+v", s)
	}
}
