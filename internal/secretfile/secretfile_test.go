package secretfile

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/keyform/keyform/keys"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

func newKey(t *testing.T) *keys.SecretKey {
	t.Helper()
	sk, err := keys.Generate("cache.example.org-1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func TestCheckOutside(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	policy := filepath.Join(repo, "policy")
	if err := os.MkdirAll(policy, 0o755); err != nil {
		t.Fatal(err)
	}
	// A symlink from outside into the repository does not get a key in.
	if err := os.Symlink(repo, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, what string
	}{
		{filepath.Join(root, "secrets", "k.key"), ""},
		{filepath.Join(root, "repo-sibling.key"), ""},
		{filepath.Join(repo, "leaked.key"), "git work tree"},
		{filepath.Join(policy, "keys", "k.key"), "git work tree"},
		{filepath.Join(root, "link", "k.key"), "git work tree"},
	} {
		err := CheckOutside(tt.path, policy, repo)
		var ie *InsideError
		if got := errors.As(err, &ie); got != (tt.what != "") || got && ie.What != tt.what {
			t.Errorf("CheckOutside(%s) = %v, want inside %q", tt.path, err, tt.what)
		}
	}
	// Outside git, the policy directory alone is refused.
	err := CheckOutside(filepath.Join(policy, "k.key"), policy, "")
	if err == nil || !strings.Contains(err.Error(), "is inside the policy directory "+policy+", where a private key could be committed") {
		t.Errorf("inside the policy directory: %v", err)
	}
}

func TestStatAndRead(t *testing.T) {
	dir := t.TempDir()
	sk := newKey(t)
	good := filepath.Join(dir, "good.key")
	if err := os.WriteFile(good, sk.Encode(), 0o640); err != nil {
		t.Fatal(err)
	}
	perm, err := Stat(good)
	if err != nil || perm != 0o640 || !Exposed(perm) {
		t.Errorf("Stat = %04o, %v; want 0640, exposed", perm, err)
	}
	got, err := Read(good)
	if err != nil || !got.Equal(sk) {
		t.Errorf("Read = %v, %v", got, err)
	}

	missing := filepath.Join(dir, "missing.key")
	if _, err := Stat(missing); err == nil || err.Error() != missing+" does not exist" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(missing) = %v", err)
	}
	if _, err := Stat(dir); err == nil || err.Error() != dir+" is not a regular file" {
		t.Errorf("Stat(dir) = %v", err)
	}

	// A public key where the secret belongs: refused, and never echoed.
	pub := filepath.Join(dir, "pub")
	if err := os.WriteFile(pub, []byte(sk.Public().String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Read(pub)
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), pub+" is not a Nix secret key: ") {
		t.Errorf("Read(public key) = %v", err)
	}
	if err != nil && strings.Contains(err.Error(), sk.Public().String()[len(sk.Name)+1:][:16]) {
		t.Errorf("Read echoed the file: %v", err)
	}
}

func TestWriterCreate(t *testing.T) {
	dir := t.TempDir()
	sk := newKey(t)
	var warned []string
	w := &Writer{Sync: true, Warn: func(d string, perm fs.FileMode) { warned = append(warned, d) }}
	path := filepath.Join(dir, "new", "a.key")
	if err := w.Create(path, sk); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]fs.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %04o", name, fi.Mode().Perm(), err, want)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != string(sk.Encode()) {
		t.Error("the file does not hold the key as nix key generate-secret writes it")
	}
	// Never replaced.
	err := w.Create(path, newKey(t))
	var ee *ExistsError
	if !errors.As(err, &ee) || !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over an existing file = %v", err)
	}
	if got, _ := Read(path); !got.Equal(sk) {
		t.Error("Create replaced an existing key")
	}
	// An exposed directory is reported, once.
	open := filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b.key", "c.key"} {
		if err := w.Create(filepath.Join(open, name), sk); err != nil {
			t.Fatal(err)
		}
	}
	if len(warned) != 1 || warned[0] != open {
		t.Errorf("warned about %q, want only %s", warned, open)
	}
}

func TestWriterInstall(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.key")
	first, second := newKey(t), newKey(t)
	var w Writer
	if err := w.Install(path, first, false); err != nil {
		t.Fatal(err)
	}
	if err := w.Install(path, second, false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Install without force over a key = %v", err)
	}
	if err := w.Install(path, second, true); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil || !got.Equal(second) {
		t.Errorf("after a forced Install the file holds %v, %v", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("forced Install left mode %04o", fi.Mode().Perm())
	}
}

func TestCreatePairs(t *testing.T) {
	dir := t.TempDir()
	a, b := newKey(t), newKey(t)
	pairs := []Pair{
		{"a", a, filepath.Join(dir, "secrets/a.key"), filepath.Join(dir, "repo/keys/a.pub")},
		{"b", b, filepath.Join(dir, "secrets/b.key"), filepath.Join(dir, "repo/keys/b.pub")},
	}
	var done []string
	var w Writer
	if err := w.CreatePairs(pairs, func(i int) { done = append(done, pairs[i].PublicPath) }); err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		if got, err := Read(p.SecretPath); err != nil || !got.Equal(p.Secret) {
			t.Errorf("%s: %v, %v", p.SecretPath, got, err)
		}
		if b, _ := os.ReadFile(p.PublicPath); string(b) != p.Secret.Public().String()+"\n" {
			t.Errorf("%s = %q", p.PublicPath, b)
		}
	}
	if len(done) != 2 {
		t.Errorf("done called for %q", done)
	}

	// The second secret exists already: nothing of the batch is left.
	c := newKey(t)
	err := w.CreatePairs([]Pair{
		{"c", c, filepath.Join(dir, "secrets/c.key"), filepath.Join(dir, "repo/keys/c.pub")},
		{"c", c, filepath.Join(dir, "secrets/a.key"), filepath.Join(dir, "repo/keys/a2.pub")},
	}, func(int) { t.Error("done called for a failed batch") })
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("CreatePairs over an existing secret = %v", err)
	}
	for _, name := range []string{"secrets/c.key", "repo/keys/c.pub"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s left behind by a failed batch", name)
		}
	}
	if got, _ := Read(filepath.Join(dir, "secrets/a.key")); !got.Equal(a) {
		t.Error("a failed batch touched an existing secret")
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	sk, other := newKey(t), newKey(t)
	renamed, _ := keys.Generate("someone.else-1", rand.Reader)
	for i, tt := range []struct {
		key    *keys.SecretKey
		match  bool
		phrase string
	}{
		{sk, true, "matches cache.example.org-1 (" + sk.Public().Fingerprint() + ")"},
		{other, false, `does not match: it holds another key named "cache.example.org-1"`},
		{renamed, false, `does not match: it holds key "someone.else-1"`},
	} {
		path := filepath.Join(dir, fmt.Sprintf("%d.key", i))
		os.WriteFile(path, tt.key.Encode(), 0o600)
		p, err := Check(path, sk.Public(), rand.Reader)
		if err != nil || p.Match != tt.match || !strings.HasPrefix(p.String(), tt.phrase) || p.Perm != 0o600 {
			t.Errorf("Check(%s) = %v, %v; want match %v, %q", tt.key.Name, p, err, tt.match, tt.phrase)
		}
	}
	// A file that exists but is not a key still tells its mode.
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("junk\n"), 0o644)
	if p, err := Check(junk, sk.Public(), rand.Reader); err == nil || p == nil || p.Perm != 0o644 {
		t.Errorf("Check(junk) = %v, %v", p, err)
	}
	if p, err := Check(filepath.Join(dir, "missing"), sk.Public(), rand.Reader); p != nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check(missing) = %v, %v", p, err)
	}
}

// TestCheckWritable: installing under a directory that cannot be written
// is found before anything is written, naming the nearest existing
// directory.
func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := CheckWritable(filepath.Join(dir, "a", "b", "k.key")); err != nil {
		t.Errorf("missing directories under a writable one: %v", err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := CheckWritable(filepath.Join(file, "sub", "k.key"))
	var nw *NotWritableError
	if !errors.As(err, &nw) || nw.Dir != file || !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("under a regular file: %v", err)
	}
	if os.Geteuid() == 0 {
		t.Skip("root may write anywhere chmod forbids; publisher_setup_paths.txtar covers a read-only mount")
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	err = CheckWritable(filepath.Join(ro, "keys", "k.key"))
	if !errors.As(err, &nw) || nw.Dir != ro || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("under a read-only directory: %v", err)
	}
	if want := "cannot create " + filepath.Join(ro, "keys", "k.key") + ": " + ro + " is not writable (permission denied)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}
