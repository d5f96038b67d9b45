package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/rogpeppe/go-internal/lockedfile"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/nixconf"
	"github.com/keyform/keyform/schema"
)

func applyCommand() *command {
	return &command{
		name:  "apply",
		args:  "TARGET [--file PATH] [--dry-run] [--backup] [--restart]",
		short: "patch a nixconf target's nix.conf to trust exactly the policy's keys",
		long: `Edits the nix.conf of a nixconf target (its path, or --file) so that Nix
trusts the target's active keys and none of the policy's retired keys, and uses
the substituters of its catalogs. Nothing else in the file changes: missing
keys are appended to keyform's block ("# Managed by keyform (target ...)"),
or to your last extra-trusted-public-keys line, or to a new block at the end;
retired keys are removed wherever they are. Keys the policy does not name
are never removed.

The file is replaced atomically (same directory, fsync, rename) with its mode,
owner and group, under a lock (PATH.keyform.lock) so that concurrent applies
take turns. keyform refuses a file that is a symlink into the Nix store
(NixOS and nix-darwin generate it: use a nixos or darwin target), that is not
a regular file, or that Nix would reject.

--dry-run prints the diff and exits 1 if the file would change, 0 if not.
After a change, apply prints the command that makes the Nix daemon read the
file again; --restart runs it.`,
		setup: func(fs *flag.FlagSet) runFunc {
			var o applyOpts
			fs.StringVar(&o.file, "file", "", "patch `path` instead of the target's path")
			fs.BoolVar(&o.dryRun, "dry-run", false, "print the diff; exit 1 if the file would change")
			fs.BoolVar(&o.backup, "backup", false, "keep the previous file as PATH.bak")
			fs.BoolVar(&o.restart, "restart", false, "restart the Nix daemon after a change")
			return func(e *env, args []string) error { return runApply(e, o, args) }
		},
	}
}

type applyOpts struct {
	file                    string
	dryRun, backup, restart bool
}

func runApply(e *env, o applyOpts, args []string) error {
	if len(args) != 1 {
		return usagef("apply needs exactly one TARGET, for example nixconf.ci_runners")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	t, err := findTarget(p, args[0])
	if err != nil {
		return err
	}
	if t.Kind != policy.NixConf {
		return withHint(fmt.Errorf("%s is a %s target; keyform apply only edits nix.conf, for nixconf targets", t.ID(), t.Kind), "%s", rolloutHint(t))
	}
	want, err := wantOf(t)
	if err != nil {
		return err
	}
	path := t.Path
	if o.file != "" {
		path = e.path(o.file)
	}
	real, err := checkConfFile(path)
	if err != nil {
		return err
	}
	if real != path {
		e.printf("%s is a symlink to %s; editing %s", path, real, real)
	}

	if !o.dryRun {
		if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
			return err
		}
		unlock, err := lockedfile.MutexAt(real + ".keyform.lock").Lock()
		if err != nil {
			return fmt.Errorf("lock %s: %w", path, err)
		}
		defer unlock()
	}

	// Read, and re-check, under the lock: the file may have changed since.
	old, fi, err := readConf(real)
	if err != nil {
		return err
	}
	if _, err := checkConfFile(path); err != nil {
		return err
	}
	// Nix resolves includes relative to the path it opens, so parse under
	// that name.
	f, err := nixconf.Parse(path, old)
	if err != nil {
		return withHint(err, "Nix itself rejects this file (nix config show fails); fix the line, then run keyform apply again")
	}
	g, ch, err := nixconf.Patch(f, want, os.ReadFile)
	if err != nil {
		return confError(err)
	}
	if len(ch.Conflicts) > 0 {
		for _, c := range ch.Conflicts {
			e.printf("%s", c)
			if c.Hint != "" {
				e.hintf("%s", c.Hint)
			}
		}
		e.printf("%s not changed: it would not give %s the trust the policy says", path, t.ID())
		return errInvalid
	}
	for _, n := range ch.Notes {
		e.notef("%s", n)
	}
	if eff, err := nixconf.Evaluate(os.ReadFile, g); err == nil {
		for _, w := range eff.Warnings {
			e.warnf("%s", w)
		}
	}
	out := g.Bytes()
	warnRoot(e, path, out, want)

	if !ch.Changed() {
		fmt.Fprintf(e.stdout, "%s already gives %s what the policy says; no change\n", path, t.ID())
		return nil
	}
	if o.dryRun {
		e.stdout.Write(diff.Diff(path, old, path+" (keyform apply)", out))
		return errDiffers
	}
	time.Sleep(e.sys.applyPause)

	wopts := atomicfile.Options{Perm: 0o644}
	if fi != nil {
		wopts.Perm = fi.Mode().Perm()
		wopts.UID, wopts.GID, wopts.Chown = atomicfile.Owner(fi)
	}
	if o.backup && fi != nil {
		if err := atomicfile.Write(real+".bak", old, wopts); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
	}
	if err := atomicfile.Write(real, out, wopts); err != nil {
		return err
	}
	printChange(e.stdout, path, t, ch, fi == nil)
	if o.backup && fi != nil {
		fmt.Fprintf(e.stdout, "previous version kept in %s\n", real+".bak")
	}
	return restartAdvice(e, path, o.restart)
}

// wantOf turns a target's resolved keys into what the patcher needs,
// checking each is a public key: apply never writes a secret.
func wantOf(t *policy.Target) (nixconf.Want, error) {
	w := nixconf.Want{Target: t.ID(), Substituters: t.Substituters}
	for _, ks := range []struct {
		keys []*policy.Key
		dst  *[]string
	}{{t.Keys, &w.Keys}, {t.Retired, &w.Retired}} {
		for _, k := range ks.keys {
			if _, err := keys.ParsePublicKey(k.PublicKey); err != nil {
				return w, fmt.Errorf("key %s: %w", k.Label, err)
			}
			*ks.dst = append(*ks.dst, k.PublicKey)
		}
	}
	return w, nil
}

// storeDir is the Nix store, where NixOS and nix-darwin put the nix.conf
// they generate; NIX_STORE_DIR moves it, for Nix as for keyform.
func storeDir() string {
	if d := os.Getenv("NIX_STORE_DIR"); d != "" {
		return filepath.Clean(d)
	}
	return "/nix/store"
}

func inStore(p string) bool {
	s := storeDir()
	return p == s || strings.HasPrefix(p, s+"/")
}

// checkConfFile refuses what apply must not edit and returns the file to
// write: path itself, or the file a symlink leads to. A missing file is
// fine: apply creates it.
func checkConfFile(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if inStore(abs) {
		return "", withHint(fmt.Errorf("%s is in the Nix store, which is read-only", path), "on NixOS or nix-darwin use a nixos or darwin target and rebuild")
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err != nil {
		return "", err
	}
	real := path
	if fi.Mode()&fs.ModeSymlink != 0 {
		real, err = filepath.EvalSymlinks(path)
		if err != nil {
			return "", withHint(fmt.Errorf("%s is a symlink that leads nowhere: %w", path, errors.Unwrap(err)), "point it at a file, or remove it so keyform creates one")
		}
		if inStore(real) {
			return "", withHint(fmt.Errorf("%s is a symlink into the Nix store (%s): NixOS or nix-darwin generates it, and it is read-only", path, real),
				"use a nixos or darwin target: \"keyform render\", import the module and rebuild; \"keyform verify\" checks the result")
		}
		if fi, err = os.Stat(real); err != nil {
			return "", err
		}
	}
	if !fi.Mode().IsRegular() {
		return "", withHint(fmt.Errorf("%s is not a regular file (%s)", path, fileType(fi.Mode())), "point the target's path (or --file) at a nix.conf file")
	}
	return real, nil
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// readConf reads the file to patch; a missing file reads as empty, with a
// nil FileInfo.
func readConf(path string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(f)
	return b, fi, err
}

// confError adds a hint to errors about the file Nix would load.
func confError(err error) error {
	var se *nixconf.SyntaxError
	var ie *nixconf.IncludeError
	switch {
	case errors.As(err, &se):
		return withHint(err, "Nix itself rejects this configuration (nix config show fails); fix %s:%d, then run keyform apply again", se.Path, se.Line)
	case errors.As(err, &ie):
		return withHint(err, "Nix itself fails on this include; fix or remove it (\"!include\" tolerates a missing file)")
	}
	return err
}

// warnRoot looks at the nix.conf next to a file with another name (such as
// Determinate Nix's /etc/nix/nix.custom.conf): Nix reads that one, and
// what it says decides whether the patched file counts.
func warnRoot(e *env, path string, patched []byte, want nixconf.Want) {
	if filepath.Base(path) == "nix.conf" {
		return
	}
	rootPath := filepath.Join(filepath.Dir(path), "nix.conf")
	data, err := os.ReadFile(rootPath)
	if err != nil {
		return
	}
	root, err := nixconf.Parse(rootPath, data)
	if err != nil {
		e.warnf("%v", err)
		return
	}
	read := false
	abs, _ := filepath.Abs(path)
	eff, err := nixconf.Evaluate(func(p string) ([]byte, error) {
		if q, _ := filepath.Abs(p); q == abs {
			read = true
			return patched, nil
		}
		return os.ReadFile(p)
	}, root)
	if err != nil {
		e.warnf("%v", err)
		return
	}
	if !read {
		e.warnf("%s does not include %s, so Nix does not read it", rootPath, path)
		e.hintf("add \"!include %s\" at the end of %s", filepath.Base(path), rootPath)
		return
	}
	for _, c := range nixconf.Conflicts(eff, want) {
		e.warnf("as Nix reads %s: %s", rootPath, c)
	}
}

func printChange(w io.Writer, path string, t *policy.Target, ch *nixconf.Change, created bool) {
	verb := "patched"
	if created {
		verb = "created"
	}
	fmt.Fprintf(w, "%s %s for %s:\n", verb, path, t.ID())
	labels := map[string]string{}
	for _, k := range append(append([]*policy.Key(nil), t.Keys...), t.Retired...) {
		labels[k.PublicKey] = k.Label
	}
	for _, it := range ch.AddedSubstituters {
		fmt.Fprintf(w, "  + substituter %s (line %d)\n", it.Value, it.Pos.Line)
	}
	for _, it := range ch.AddedKeys {
		fmt.Fprintf(w, "  + key %s (%s, line %d)\n", it.Value, labels[it.Value], it.Pos.Line)
	}
	for _, it := range ch.RemovedKeys {
		fmt.Fprintf(w, "  - key %s (%s, retired; was line %d)\n", it.Value, labels[it.Value], it.Pos.Line)
	}
	for _, m := range ch.Moved {
		fmt.Fprintf(w, "  moved keyform's lines from line %d to line %d: %s\n", m.From, m.To, m.Why)
	}
}

// daemonSocket is where a multi-user Nix's daemon listens; Nix's own
// NIX_DAEMON_SOCKET_PATH and NIX_STATE_DIR move it.
func daemonSocket() string {
	if p := os.Getenv("NIX_DAEMON_SOCKET_PATH"); p != "" {
		return p
	}
	state := "/nix/var/nix"
	if d := os.Getenv("NIX_STATE_DIR"); d != "" {
		state = d
	}
	return filepath.Join(state, "daemon-socket", "socket")
}

// restartCommands returns the commands that make the daemon reread
// nix.conf on this OS, and why they look as they do.
func restartCommands(e *env) (cmds [][]string, why string) {
	sudo := []string{}
	if e.sys.geteuid() != 0 {
		sudo = []string{"sudo"}
	}
	switch e.sys.goos {
	case "darwin":
		label := "system/org.nixos.nix-daemon"
		if _, err := os.Stat("/Library/LaunchDaemons/systems.determinate.nix-daemon.plist"); err == nil {
			label = "system/systems.determinate.nix-daemon"
		}
		c := append(sudo, "launchctl", "kickstart", "-k", label)
		return [][]string{c, c}, " (twice: the first kickstart can return before launchd has started the new daemon, or fail transiently; the second makes sure it runs)"
	case "linux":
		return [][]string{append(sudo, "systemctl", "restart", "nix-daemon")}, ""
	}
	return nil, ""
}

func restartAdvice(e *env, path string, restart bool) error {
	if home, err := os.UserHomeDir(); err == nil && strings.HasPrefix(filepath.Clean(path), filepath.Clean(home)+"/") {
		e.notef("%s is a user's file; the Nix daemon ignores trusted-public-keys from it unless that user is in trusted-users", path)
	}
	sock := daemonSocket()
	if _, err := os.Stat(sock); err != nil {
		fmt.Fprintf(e.stdout, "single-user install (no Nix daemon at %s): no restart needed, Nix reads the file at every start\n", sock)
		return nil
	}
	cmds, why := restartCommands(e)
	if cmds == nil {
		fmt.Fprintf(e.stdout, "restart the Nix daemon so that it reads %s again\n", path)
		return nil
	}
	if !restart {
		fmt.Fprintf(e.stdout, "the Nix daemon reads nix.conf when it starts; restart it%s:\n", why)
		for _, c := range cmds {
			fmt.Fprintf(e.stdout, "  %s\n", strings.Join(c, " "))
		}
		return nil
	}
	for _, c := range cmds {
		fmt.Fprintf(e.stdout, "running: %s\n", strings.Join(c, " "))
		if err := e.sys.runCommand(e, c); err != nil {
			return withHint(fmt.Errorf("restart the Nix daemon: %s: %w", strings.Join(c, " "), err), "%s is patched; restart the daemon yourself", path)
		}
	}
	return nil
}
