package nixconf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strings"
)

// Caller is the user whose Nix "keyform verify" asks: who they are (the
// daemon's trusted-users names users and groups), their environment (where
// Nix finds their nix.conf files) and how to run nix as them.
type Caller struct {
	// Name is the login name, "" when unknown.
	Name string
	// Groups are the names of the user's groups: "@GROUP" in
	// trusted-users matches any of them.
	Groups []string
	// Home is the home directory Nix falls back to without HOME.
	Home string
	// LookupEnv is the environment Nix runs with, as os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Output runs argv as the user, with extraEnv added to the
	// environment (later entries win), and returns its standard output
	// and standard error.
	Output func(argv []string, extraEnv ...string) (stdout, stderr []byte, err error)
}

// CurrentCaller is the user keyform runs as, with keyform's environment.
func CurrentCaller() Caller {
	c := Caller{LookupEnv: os.LookupEnv}
	if u, err := user.Current(); err == nil {
		c.Name, c.Home, c.Groups = u.Username, u.HomeDir, groupNames(u, os.Getgid())
	}
	c.Output = func(argv []string, extraEnv ...string) ([]byte, []byte, error) {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), extraEnv...)
		return outputOf(cmd)
	}
	return c
}

// groupNames names u's groups, the process's group (gid) first; those it
// cannot name stay out.
func groupNames(u *user.User, gid int) []string {
	ids, _ := u.GroupIds()
	ids = append([]string{fmt.Sprint(gid)}, ids...)
	var names []string
	for _, id := range ids {
		if g, err := user.LookupGroupId(id); err == nil && !slices.Contains(names, g.Name) {
			names = append(names, g.Name)
		}
	}
	return names
}

func outputOf(cmd *exec.Cmd) ([]byte, []byte, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	return out, stderr.Bytes(), err
}

// passedToUser are the variables of keyform's environment that a command
// run as another user keeps: where the system's Nix lives and how to reach
// its daemon. The user's own (HOME, XDG_CONFIG_HOME, NIX_CONFIG,
// NIX_USER_CONF_FILES, ...) come from the account, not from the caller.
var passedToUser = []string{"PATH", "NIX_CONF_DIR", "NIX_REMOTE", "NIX_DAEMON_SOCKET_PATH", "NIX_STORE_DIR", "NIX_STATE_DIR", "XDG_CONFIG_DIRS", "TMPDIR"}

// userEnv is the environment of a command run as another user: the
// account's HOME, USER and LOGNAME, and passedToUser from lookup.
func userEnv(name, home string, lookup func(string) (string, bool)) []string {
	env := []string{"HOME=" + home, "USER=" + name, "LOGNAME=" + name}
	for _, k := range passedToUser {
		if v, ok := lookup(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// ShownConfig runs "nix config show --json" (or "nix show-config --json")
// as the caller and parses it; source names the command that answered.
func (c Caller) ShownConfig() (shown *ShownConfig, data []byte, source string, err error) {
	return c.shownConfig()
}

// SystemConfig is ShownConfig without the caller's nix.conf files and
// NIX_CONFIG: what nix.conf alone says, which is what the daemon reads
// (when it runs with the same NIX_CONF_DIR and was restarted since the
// file changed).
func (c Caller) SystemConfig() (*ShownConfig, error) {
	// NIX_USER_CONF_FILES replaces the list of user files; /dev/null is
	// one that exists and is empty. An empty NIX_CONFIG sets nothing.
	shown, _, _, err := c.shownConfig("NIX_USER_CONF_FILES=/dev/null", "NIX_CONFIG=")
	return shown, err
}

func (c Caller) shownConfig(extraEnv ...string) (*ShownConfig, []byte, string, error) {
	data, source, err := readShownConfig(func(argv []string) ([]byte, []byte, error) { return c.Output(argv, extraEnv...) })
	if err != nil {
		return nil, nil, "", err
	}
	shown, err := ParseShowConfig(data)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w", source, err)
	}
	return shown, data, source, nil
}

// StoreInfo asks the caller's Nix about its store: "nix store info
// --json", or the older "nix store ping" forms.
func (c Caller) StoreInfo() (*StoreInfo, error) {
	return queryStoreInfo(func(argv []string) ([]byte, []byte, error) { return c.Output(argv) })
}

// DaemonTrust asks the caller's Nix whether its daemon trusts the caller;
// shown is the caller's configuration, for trusted-users when Nix does not
// say.
func (c Caller) DaemonTrust(shown *ShownConfig) (DaemonTrust, error) {
	store, err := c.StoreInfo()
	if err != nil {
		return DaemonTrust{}, err
	}
	return JudgeDaemonTrust(store, shown, c.Name, c.Groups), nil
}

// ConfSources are the nix.conf inputs of the caller's Nix (ConfSourcesOf).
func (c Caller) ConfSources() ConfSources {
	lookup := c.LookupEnv
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	return ConfSourcesOf(lookup, c.Home)
}

// String names the caller in messages.
func (c Caller) String() string {
	if c.Name == "" {
		return "this user"
	}
	return "user " + strings.TrimSpace(c.Name)
}

// envLookup looks a variable up in an environment list; the last entry
// of a name wins, as in os/exec.
func envLookup(env []string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
				return v, true
			}
		}
		return "", false
	}
}
