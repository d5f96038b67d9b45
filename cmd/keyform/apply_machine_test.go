package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// apply on real machines: a read-only file system, an immutable file, a
// user who is not root. These need root to set up (a mount namespace,
// chattr, another user) and skip cleanly where that is not possible.

// machineSetup writes the corpus policy and a nix.conf with content into a
// directory every user can read, and returns the policy directory and the
// nix.conf path.
func machineSetup(t *testing.T, content string) (policy, conf string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	// t.TempDir's parent is private (0700): open both up, so that another
	// user can reach the files.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	policy = filepath.Join(dir, "policy")
	writeFile(t, filepath.Join(policy, "keyform.hcl"), corpusPolicy)
	conf = filepath.Join(dir, "etc", "nix", "nix.conf")
	writeFile(t, conf, content)
	return policy, conf
}

// patchedConf is what apply makes of "keep-outputs = true\n" for the
// corpus policy: already right, so a second apply has nothing to write.
const patchedConf = "keep-outputs = true\n" +
	"# Managed by keyform (target nixconf.ci): \"keyform apply\" edits the lines below; change the policy instead.\n" +
	"extra-substituters = https://cache.acme.example\n" +
	"extra-trusted-public-keys = cache.acme.example-1:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2Xc=\n"

// keyformBinary copies the test binary, which runs keyform's main when it
// is called "keyform" (testscript.Main in TestMain), where every user can
// run it, for tests that run keyform as another user or in another mount
// namespace.
func keyformBinary(t *testing.T, policy string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	bin := filepath.Join(filepath.Dir(policy), "bin", "keyform")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(bin, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}

// runAs runs argv with a clean environment and returns the exit code,
// stdout and stderr.
func runAs(t *testing.T, home string, argv ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "NO_COLOR=1", "NIX_DAEMON_SOCKET_PATH=" + filepath.Join(home, "no-daemon")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		t.Fatalf("%s: %v", strings.Join(argv, " "), err)
	}
	return 0, stdout.String(), stderr.String()
}

// TestApplyReadOnlyFS: on a read-only file system (a read-only bind mount
// of the file's directory, in a private mount namespace that ends with the
// command), a file already right is "no change", exit 0, since apply
// decides before it takes the lock; a file that needs a change is refused
// with the reason, not a raw error.
func TestApplyReadOnlyFS(t *testing.T) {
	policy, conf := machineSetup(t, patchedConf)
	if out, err := exec.Command("unshare", "--mount", "--propagation", "private", "true").CombinedOutput(); err != nil {
		t.Skipf("no mount namespace: %v: %s", err, out)
	}
	bin := keyformBinary(t, policy)
	etc := filepath.Dir(conf)
	readOnly := func(args ...string) (int, string, string) {
		argv := append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-ec",
			`mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"; shift; exec "$@"`, "sh", etc,
			bin, "-C", policy, "apply", "nixconf.ci", "--file", conf}, args...)
		return runAs(t, t.TempDir(), argv...)
	}

	code, stdout, stderr := readOnly()
	if code != 0 || stdout != conf+" already gives nixconf.ci what the policy says; no change\n" || stderr != "" {
		t.Errorf("already right: exit %d\n%s%s", code, stdout, stderr)
	}

	writeFile(t, conf, "keep-outputs = true\n")
	code, stdout, stderr = readOnly()
	want := "keyform: cannot replace " + conf + ": it is on a read-only file system\n" +
		"hint: remount it read-write, or change the file where it is generated (on NixOS or nix-darwin, a nixos or darwin target)\n"
	if code != 2 || stdout != "" || stderr != want {
		t.Errorf("needs a change: exit %d\n%s%s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(conf); string(b) != "keep-outputs = true\n" {
		t.Errorf("file changed: %q", b)
	}

	// The file alone bind-mounted, as a container mounts a host's
	// nix.conf: read-only, the same message; read-write, rename cannot
	// replace it.
	for _, opts := range []string{"ro", "rw"} {
		argv := []string{"unshare", "--mount", "--propagation", "private", "sh", "-ec",
			`mount --bind "$1" "$1"; mount -o remount,bind,` + opts + ` "$1"; shift; exec "$@"`, "sh", conf,
			bin, "-C", policy, "apply", "nixconf.ci", "--file", conf}
		code, stdout, stderr = runAs(t, t.TempDir(), argv...)
		want := "keyform: cannot replace " + conf + ": it is on a read-only file system\n"
		if opts == "rw" {
			want = "keyform: cannot replace " + conf + ": it is a mount point (a file mounted on its own, as a container mounts it), which cannot be replaced\n" +
				"hint: edit the file it is mounted from, or run keyform apply where that file lives\n"
		}
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, want) {
			t.Errorf("file mounted %s: exit %d\n%s%s", opts, code, stdout, stderr)
		}
		if b, _ := os.ReadFile(conf); string(b) != "keep-outputs = true\n" {
			t.Errorf("file mounted %s changed: %q", opts, b)
		}
	}
}

// TestApplyImmutable: a file with chattr +i is named as immutable, with
// how to lift it, not a raw rename error; already right, it is fine.
func TestApplyImmutable(t *testing.T) {
	policy, conf := machineSetup(t, "keep-outputs = true\n")
	if out, err := exec.Command("chattr", "+i", conf).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", conf).Run() })

	code, stdout, stderr := applyRun(t, policy, "apply", "nixconf.ci", "--file", conf)
	want := "keyform: cannot replace " + conf + ": the file is immutable (chattr +i), which refuses every change, even root's\n" +
		"hint: if keyform should manage it, remove the flag (chattr -i -a " + conf + "), then run keyform apply again\n"
	if code != 2 || stdout != "" || stderr != want {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(conf); string(b) != "keep-outputs = true\n" {
		t.Errorf("file changed: %q", b)
	}
	if names, _ := filepath.Glob(filepath.Join(filepath.Dir(conf), "*")); len(names) != 1 {
		t.Errorf("files left next to it: %q", names)
	}
}

// TestApplyNotRoot: a user who may not write the file gets an error that
// names it and suggests the same command with sudo; a file already right
// needs no write access at all.
func TestApplyNotRoot(t *testing.T) {
	policy, conf := machineSetup(t, "keep-outputs = true\n")
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("no setpriv")
	}
	bin := keyformBinary(t, policy)
	home := t.TempDir()
	if err := os.Chmod(home, 0o777); err != nil {
		t.Fatal(err)
	}
	asNobody := func(args ...string) (int, string, string) {
		argv := append([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-C", policy, "apply", "nixconf.ci", "--file", conf}, args...)
		return runAs(t, home, argv...)
	}

	code, stdout, stderr := asNobody("--backup")
	want := "keyform: cannot replace " + conf + ": permission denied\n" +
		"hint: run it as root: sudo keyform apply nixconf.ci --file " + conf + " --backup\n"
	if code != 2 || stdout != "" || stderr != want {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}

	writeFile(t, conf, patchedConf)
	code, stdout, stderr = asNobody()
	if code != 0 || !strings.HasSuffix(stdout, "; no change\n") || stderr != "" {
		t.Errorf("already right: exit %d\n%s%s", code, stdout, stderr)
	}

	// The user's own file in the user's own directory, made read-only
	// (chmod 0444): rename would replace it anyway, so apply asks first.
	own := filepath.Join(home, "nix.conf")
	writeFile(t, own, "keep-outputs = true\n")
	for _, p := range []string{own, home} {
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(own, 0o444); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runAs(t, home, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-C", policy, "apply", "nixconf.ci", "--file", own)
	want = "keyform: cannot replace " + own + ": permission denied (the file is read-only)\n" +
		"hint: make it writable (chmod u+w " + own + ") if keyform should edit it\n"
	if code != 2 || stdout != "" || stderr != want {
		t.Errorf("read-only file: exit %d\n%s%s", code, stdout, stderr)
	}

	// A directory the user cannot enter: the file cannot even be read.
	if err := os.Chmod(filepath.Dir(conf), 0o700); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = asNobody()
	want = "keyform: cannot read " + conf + ": permission denied\n" +
		"hint: run it as root: sudo keyform apply nixconf.ci --file " + conf + "\n"
	if code != 2 || stdout != "" || stderr != want {
		t.Errorf("unreadable: exit %d\n%s%s", code, stdout, stderr)
	}
}
