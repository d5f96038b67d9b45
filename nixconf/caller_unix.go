//go:build unix

package nixconf

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// CallerAs is another user of this machine, for "keyform verify --user":
// commands run with their user and group ids and their groups, in their
// home directory, with the environment a fresh login of theirs would give
// Nix (HOME, USER, LOGNAME; XDG_CONFIG_HOME, NIX_CONFIG and
// NIX_USER_CONF_FILES unset, so Nix reads ~/.config/nix/nix.conf) plus the
// system-wide variables of lookup (passedToUser). Only root can run
// commands as another user; the caller checks that first.
func CallerAs(name string, lookup func(string) (string, bool)) (Caller, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return Caller{}, fmt.Errorf("no user %q on this machine: %v", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return Caller{}, fmt.Errorf("user %q has ids %s:%s, which are not numbers", name, u.Uid, u.Gid)
	}
	var groups []uint32
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if n, err := strconv.ParseUint(id, 10, 32); err == nil {
				groups = append(groups, uint32(n))
			}
		}
	}
	env := userEnv(u.Username, u.HomeDir, lookup)
	dir := u.HomeDir
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		dir = "/"
	}
	c := Caller{Name: u.Username, Home: u.HomeDir, Groups: groupNames(u, int(gid))}
	c.LookupEnv = envLookup(env)
	c.Output = func(argv []string, extraEnv ...string) ([]byte, []byte, error) {
		// Resolve the command in keyform's PATH: the user's PATH is the
		// same, and the lookup must not depend on what they can read.
		path, err := exec.LookPath(argv[0])
		if err != nil {
			return nil, nil, err
		}
		cmd := exec.Command(path, argv[1:]...)
		cmd.Env = append(append([]string{}, env...), extraEnv...)
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: groups}}
		return outputOf(cmd)
	}
	return c, nil
}
