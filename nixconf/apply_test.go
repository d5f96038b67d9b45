package nixconf

import (
	"github.com/keyform/keyform/internal/hint"

	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func hintOf(t *testing.T, err error) (msg, fix string) {
	t.Helper()
	var he *hint.Error
	if !errors.As(err, &he) {
		t.Fatalf("error %v (%T) has no hint", err, err)
	}
	return he.Err.Error(), he.Fix
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestCheckConfFile: what apply refuses to edit, and which file it writes.
func TestCheckConfFile(t *testing.T) {
	dir := t.TempDir()
	h := Host{StoreDir: filepath.Join(dir, "store")}
	storeConf := filepath.Join(h.StoreDir, "abc-nix.conf")
	write(t, storeConf, "")
	write(t, filepath.Join(dir, "etc/real.conf"), "")
	symlink(t, storeConf, filepath.Join(dir, "etc/nixos.conf"))
	symlink(t, filepath.Join(dir, "etc/real.conf"), filepath.Join(dir, "etc/link.conf"))
	symlink(t, filepath.Join(dir, "nowhere"), filepath.Join(dir, "etc/dangling.conf"))
	if err := os.Mkdir(filepath.Join(dir, "etc/dir.conf"), 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		path      string
		real      string // when accepted
		msg, hint string // when refused
	}{
		{path: "etc/missing.conf", real: "etc/missing.conf"},
		{path: "etc/real.conf", real: "etc/real.conf"},
		{path: "etc/link.conf", real: "etc/real.conf"},
		{path: "store/abc-nix.conf", msg: "store/abc-nix.conf is in the Nix store, which is read-only", hint: "on NixOS or nix-darwin use a nixos or darwin target and rebuild"},
		{path: "store", msg: "store is in the Nix store", hint: "on NixOS or nix-darwin"},
		{path: "etc/nixos.conf", msg: "etc/nixos.conf is a symlink into the Nix store (store/abc-nix.conf): NixOS or nix-darwin generates it, and it is read-only", hint: "use a nixos or darwin target"},
		{path: "etc/dangling.conf", msg: "etc/dangling.conf is a symlink that leads nowhere", hint: "point it at a file, or remove it so keyform creates one"},
		{path: "etc/dir.conf", msg: "etc/dir.conf is not a regular file (a directory)", hint: "point the target's path (or --file) at a nix.conf file"},
	} {
		path := filepath.Join(dir, tc.path)
		real, err := h.CheckConfFile(path)
		if tc.msg == "" {
			if err != nil || real != filepath.Join(dir, tc.real) {
				t.Errorf("%s: got %q, %v; want %s", tc.path, real, err, tc.real)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted; want %q", tc.path, tc.msg)
			continue
		}
		msg, hint := hintOf(t, err)
		msg = strings.ReplaceAll(msg, dir+"/", "")
		if !strings.HasPrefix(msg, tc.msg) || !strings.HasPrefix(hint, tc.hint) {
			t.Errorf("%s:\n got %q\n     hint %q\nwant %q\n     hint %q", tc.path, msg, hint, tc.msg, tc.hint)
		}
	}

	// The store is the Host's: the same file is fine on a host whose store
	// is elsewhere.
	if _, err := (Host{StoreDir: "/nix/store"}).CheckConfFile(storeConf); err != nil {
		t.Errorf("store elsewhere: %v", err)
	}
}

// TestConfFileWrite: a write keeps the mode, a backup keeps the old bytes,
// and a new file gets 0644.
func TestConfFileWrite(t *testing.T) {
	dir := t.TempDir()
	h := Host{StoreDir: "/nix/store"}
	path := filepath.Join(dir, "etc/nix/nix.conf")
	write(t, path, "old\n")
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	c, err := h.OpenConf(path, path)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Exists || string(c.Data) != "old\n" {
		t.Fatalf("read %v %q", c.Exists, c.Data)
	}
	if changed, err := c.Lock(); changed || err != nil {
		t.Fatalf("lock: %v, %v", changed, err)
	}
	bak, err := c.Write([]byte("new\n"), true)
	c.Close()
	if err != nil || bak != path+".bak" {
		t.Fatalf("write: %q, %v", bak, err)
	}
	for p, want := range map[string]string{path: "new\n", bak: "old\n"} {
		b, err := os.ReadFile(p)
		fi, err2 := os.Stat(p)
		if err != nil || err2 != nil || string(b) != want || fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: %q %v, mode %v; want %q, 0640", p, b, err, fi.Mode().Perm(), want)
		}
	}

	fresh := filepath.Join(dir, "new/dir/nix.conf")
	c, err = h.OpenConf(fresh, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := c.Lock(); changed || err != nil {
		t.Fatalf("lock: %v, %v", changed, err)
	}
	bak, err = c.Write([]byte("x = y\n"), true)
	c.Close()
	if fi, err2 := os.Stat(fresh); err != nil || err2 != nil || bak != "" || fi.Mode().Perm() != 0o644 {
		t.Errorf("fresh file: backup %q, %v, %v", bak, err, err2)
	}
}

// TestConfLock: a second apply waits for the first one's Close; the lock
// leaves no file behind; Lock reads the file again and says when it
// changed since OpenConf; OpenConf alone (a dry run, a file already right)
// creates nothing.
func TestConfLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nix.conf")
	write(t, path, "a = b\n")
	h := Host{StoreDir: "/nix/store"}
	first, err := h.OpenConf(path, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Lock(); err != nil {
		t.Fatal(err)
	}
	second, err := h.OpenConf(path, path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan bool)
	go func() {
		changed, err := second.Lock()
		if err != nil {
			t.Error(err)
		}
		got <- changed
	}()
	select {
	case <-got:
		t.Fatal("second Lock did not wait for the lock")
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := first.Write([]byte("a = c\n"), false); err != nil {
		t.Fatal(err)
	}
	first.Close()
	select {
	case changed := <-got:
		if !changed || string(second.Data) != "a = c\n" {
			t.Errorf("second Lock: changed %v, data %q; want the first one's write", changed, second.Data)
		}
		second.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("second Lock still waits after Close")
	}
	if names, _ := filepath.Glob(filepath.Join(dir, "*")); !slices.Equal(names, []string{path}) {
		t.Errorf("files left in %s: %q", dir, names)
	}

	// Without Lock nothing waits, and nothing is created.
	dry := filepath.Join(t.TempDir(), "sub/nix.conf")
	c, err := h.OpenConf(dry, dry)
	if err != nil || c.Exists {
		t.Fatalf("dry run: %+v %v", c, err)
	}
	if _, err := os.Stat(filepath.Dir(dry)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created %s", filepath.Dir(dry))
	}
}

// TestAccessErrors: why a file cannot be replaced, in words, with what to
// do; only permission errors of a non-root user suggest sudo.
func TestAccessErrors(t *testing.T) {
	c := &ConfFile{Path: "/etc/nix/nix.conf", Real: "/etc/nix/nix.conf", Exists: true, host: Host{EUID: 1000}}
	for _, tc := range []struct {
		err       error
		msg, hint string
		root      bool
	}{
		{&os.PathError{Op: "open", Path: "/etc/nix/.x", Err: syscall.EACCES}, "cannot replace /etc/nix/nix.conf: permission denied", "", true},
		{&os.PathError{Op: "open", Path: "/etc/nix/.x", Err: syscall.EROFS}, "cannot replace /etc/nix/nix.conf: it is on a read-only file system", "remount it read-write", false},
		{&os.LinkError{Op: "rename", Old: "/etc/nix/.x", New: "/etc/nix/nix.conf", Err: syscall.EBUSY}, "cannot replace /etc/nix/nix.conf: it is a mount point (a file mounted on its own, as a container mounts it), which cannot be replaced", "edit the file it is mounted from", false},
		{&os.LinkError{Op: "rename", Old: "/etc/nix/.x", New: "/etc/nix/nix.conf", Err: syscall.EPERM}, "cannot replace /etc/nix/nix.conf: the file is immutable or append-only, which refuses every change, even root's", "if keyform should manage it, remove the flag (chattr -i -a /etc/nix/nix.conf)", false},
	} {
		err := c.accessError("replace", tc.err)
		var ae *AccessError
		if !errors.As(err, &ae) || ae.Error() != tc.msg || !strings.HasPrefix(ae.Hint, tc.hint) || ae.NeedsRoot != tc.root || !errors.Is(err, tc.err.(interface{ Unwrap() error }).Unwrap()) {
			t.Errorf("%v: got %q (hint %q, root %v)", tc.err, err, ae.Hint, ae.NeedsRoot)
		}
	}
	if err := c.accessError("replace", errors.New("disk on fire")); err.Error() != "replace /etc/nix/nix.conf: disk on fire" {
		t.Errorf("other error: %v", err)
	}
}

// TestLockImmutable: chattr +i on the file or its directory is found
// before anything is written, and named. Needs root and a file system
// with inode flags; skipped otherwise.
func TestLockImmutable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chattr +i needs root")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "etc/nix.conf")
	write(t, path, "a = b\n")
	for _, target := range []string{path, filepath.Dir(path)} {
		if out, err := exec.Command("chattr", "+i", target).CombinedOutput(); err != nil {
			t.Skipf("chattr +i: %v: %s", err, out)
		}
		c, err := Host{}.OpenConf(path, path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Lock()
		c.Close()
		exec.Command("chattr", "-i", target).Run()
		var ae *AccessError
		want := "the file is immutable (chattr +i)"
		if target != path {
			want = "its directory is immutable (chattr +i)"
		}
		if !errors.As(err, &ae) || !strings.Contains(ae.Why, want) || !strings.Contains(ae.Hint, "chattr -i -a "+target) {
			t.Errorf("%s immutable: %v (hint %q)", target, err, ae.Hint)
		}
	}
}

var applyWant = Want{
	Target:       "nixconf.ci",
	Keys:         []string{keyAcme1},
	Retired:      []string{keyAcme0},
	Substituters: []string{"https://cache.acme.example"},
	Labels:       map[string]string{keyAcme1: "acme_1", keyAcme0: "acme_0"},
}

// plan runs PlanApply on in-memory files, path's content being files[path]
// (absent: the file does not exist).
func plan(t *testing.T, files map[string]string, path string) (*ApplyPlan, error) {
	t.Helper()
	read := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
	}
	data, ok := files[path]
	return PlanApply(&ConfFile{Path: path, Real: path, Data: []byte(data), Exists: ok}, applyWant, read)
}

func TestPlanApplyReport(t *testing.T) {
	p, err := plan(t, nil, "/etc/nix/nix.conf")
	if err != nil {
		t.Fatal(err)
	}
	if p.Refused() || !p.Changed() || !p.Created || len(p.Warnings) != 0 {
		t.Fatalf("plan %+v", p)
	}
	want := "created /etc/nix/nix.conf for nixconf.ci:\n" +
		"  + substituter https://cache.acme.example (line 2)\n" +
		"  + key " + keyAcme1 + " (acme_1, line 3)\n"
	if got := p.Report(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}

	old := "extra-trusted-public-keys = " + keyAcme0 + " " + keyOther + "\n" +
		MarkerPrefix + "nixconf.ci): \"keyform apply\" edits the lines below; change the policy instead.\n" +
		"extra-substituters = https://cache.acme.example\n" +
		"trusted-public-keys = " + NixOSCacheKey + "\n"
	p, err = plan(t, map[string]string{"/etc/nix/nix.conf": old}, "/etc/nix/nix.conf")
	if err != nil {
		t.Fatal(err)
	}
	want = "patched /etc/nix/nix.conf for nixconf.ci:\n" +
		"  + key " + keyAcme1 + " (acme_1, line 5)\n" +
		"  - key " + keyAcme0 + " (acme_0, retired; was line 1)\n" +
		"  moved keyform's lines from line 2 to line 3: line 4 replaces trusted-public-keys, so Nix ignored keyform's lines above it\n"
	if got := p.Report(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
	if !bytes.Equal(p.Old, []byte(old)) || bytes.Equal(p.New, p.Old) {
		t.Errorf("old/new: %q / %q", p.Old, p.New)
	}

	// Applying the result again changes nothing.
	again, err := plan(t, map[string]string{"/etc/nix/nix.conf": string(p.New)}, "/etc/nix/nix.conf")
	if err != nil || again.Changed() || again.Created {
		t.Errorf("second apply: changed %v, created %v, %v", again.Changed(), again.Created, err)
	}
}

// TestPlanApplyRefusals: a file or include Nix rejects is an error with
// PATH:LINE and a hint; what Patch cannot fix is a conflict.
func TestPlanApplyRefusals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		files     map[string]string
		msg, hint string
	}{
		{"illegal line", map[string]string{"/etc/nix/nix.conf": "# ok\nsubstituters=x\n"},
			"/etc/nix/nix.conf:2: illegal configuration line 'substituters=x': Nix needs white space on both sides of '='",
			"Nix itself rejects this file (nix config show fails); fix the line, then run keyform apply again"},
		{"illegal include", map[string]string{"/etc/nix/nix.conf": "include inc.conf\n", "/etc/nix/inc.conf": "\nbad\n"},
			"/etc/nix/inc.conf:2: illegal configuration line 'bad'",
			"Nix itself rejects this configuration (nix config show fails); fix /etc/nix/inc.conf:2, then run keyform apply again"},
		{"shell line", map[string]string{"/etc/nix/nix.conf": "# nix\nexport PATH=$HOME/nix/bin:$PATH\n"},
			"/etc/nix/nix.conf:2: illegal configuration line 'export PATH=$HOME/nix/bin:$PATH': this is a shell command, not a nix.conf setting",
			"/etc/nix/nix.conf looks like a shell script (a profile?), not nix.conf: check the target's path (or --file); shell lines such as \"export PATH=...\" belong in a shell profile"},
		{"shell line in an include", map[string]string{"/etc/nix/nix.conf": "include profile\n", "/etc/nix/profile": "PATH=/nix/bin:$PATH\n"},
			"/etc/nix/profile:1: illegal configuration line 'PATH=/nix/bin:$PATH': this is a shell command",
			"/etc/nix/profile looks like a shell script (a profile?), not nix.conf: check the target's path (or --file); shell lines such as \"export PATH=...\" belong in a shell profile"},
		{"missing include", map[string]string{"/etc/nix/nix.conf": "include gone.conf\n"},
			"/etc/nix/nix.conf:1: file '/etc/nix/gone.conf' included from '/etc/nix/nix.conf' not found",
			"Nix itself fails on this include; fix or remove it (\"!include\" tolerates a missing file)"},
	} {
		_, err := plan(t, tc.files, "/etc/nix/nix.conf")
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		msg, hint := hintOf(t, err)
		if !strings.HasPrefix(msg, tc.msg) || hint != tc.hint {
			t.Errorf("%s:\n got %q\n     hint %q\nwant %q\n     hint %q", tc.name, msg, hint, tc.msg, tc.hint)
		}
	}

	p, err := plan(t, map[string]string{"/etc/nix/nix.conf": "extra-trusted-public-keys = " + keyAcme1Clash + "\n"}, "/etc/nix/nix.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Refused() || len(p.Change.Conflicts) != 1 || p.Change.Conflicts[0].Key != keyAcme1Clash || p.Change.Conflicts[0].Pos != (Pos{"/etc/nix/nix.conf", 1}) {
		t.Errorf("name clash: refused %v, %+v", p.Refused(), p.Change.Conflicts)
	}
}

// TestPlanApplyWarnings: Nix's view of the result, through the nix.conf
// that includes a nix.custom.conf, and entries Nix cannot use.
func TestPlanApplyWarnings(t *testing.T) {
	const custom = "/etc/nix/nix.custom.conf"
	for _, tc := range []struct {
		name, root string
		want       []Warning
	}{
		{"included", "build-users-group = nixbld\n!include nix.custom.conf\n", nil},
		{"no nix.conf", "", nil},
		{"not included", "build-users-group = nixbld\n", []Warning{{
			Msg:  "/etc/nix/nix.conf does not include /etc/nix/nix.custom.conf, so Nix does not read it",
			Hint: "add \"!include nix.custom.conf\" at the end of /etc/nix/nix.conf",
		}}},
		{"wiped", "!include nix.custom.conf\ntrusted-public-keys = " + NixOSCacheKey + "\n", []Warning{{
			Msg: "as Nix reads /etc/nix/nix.conf: key " + keyAcme1 + " is not trusted",
		}}},
		{"broken nix.conf", "x=y\n", []Warning{{
			Msg: "/etc/nix/nix.conf:1: illegal configuration line 'x=y': Nix needs white space on both sides of '=' (write 'x = ...')",
		}}},
	} {
		files := map[string]string{}
		if tc.root != "" {
			files["/etc/nix/nix.conf"] = tc.root
		}
		p, err := plan(t, files, custom)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(p.Warnings, tc.want) {
			t.Errorf("%s: warnings\n got %q\nwant %q", tc.name, p.Warnings, tc.want)
		}
	}

	p, err := plan(t, map[string]string{"/etc/nix/nix.conf": "extra-trusted-public-keys = " + badKey + "\n"}, "/etc/nix/nix.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.HasPrefix(p.Warnings[0].Msg, "/etc/nix/nix.conf:1: \""+badKey+"\" is not a public key Nix can use") {
		t.Errorf("invalid key: %q", p.Warnings)
	}
}
