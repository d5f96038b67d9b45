// Package secretfile holds keyform's rules for the files that hold Nix
// secret keys on a machine: where they may live (never inside the
// repository, where they could be committed), how they are written (mode
// 0600 in 0700 directories, never replacing a file unless asked), and how
// they are read (a regular file; errors never echo its content).
package secretfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/internal/safefile"
	"github.com/keyform/keyform/keys"
)

// InsideError reports a secret key path inside a directory whose files
// may be committed.
type InsideError struct {
	Path string
	Dir  string
	What string // "git work tree" or "policy directory"
}

func (e *InsideError) Error() string {
	return fmt.Sprintf("%s is inside the %s %s, where a private key could be committed", e.Path, e.What, e.Dir)
}

// Hint says where private keys belong.
func (e *InsideError) Hint() string {
	return "keep private keys outside the repository, for example under ~/.config/keyform/ or /var/lib/keyform/"
}

// CheckOutside refuses a secret key path (absolute) inside the git work
// tree or the policy directory (absolute, symlinks resolved; workTree ""
// when there is none), returning an *InsideError.
func CheckOutside(path, policyDir, workTree string) error {
	target := path
	if real, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		target = filepath.Join(real, filepath.Base(path))
	}
	for _, root := range []struct{ dir, what string }{{workTree, "git work tree"}, {policyDir, "policy directory"}} {
		if root.dir == "" {
			continue
		}
		if rel, err := filepath.Rel(root.dir, target); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return &InsideError{Path: path, Dir: root.dir, What: root.what}
		}
	}
	return nil
}

// Exposed reports whether a file or directory with permission bits perm
// lets its group or others in.
func Exposed(perm fs.FileMode) bool { return perm&0o077 != 0 }

// PathError is a file that cannot be read, said plainly: "PATH does not
// exist", "PATH is not readable (permission denied)". It wraps the
// original error for errors.Is.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string {
	switch {
	case errors.Is(e.Err, fs.ErrNotExist):
		return fmt.Sprintf("%s does not exist", e.Path)
	case errors.Is(e.Err, fs.ErrPermission):
		return fmt.Sprintf("%s is not readable (permission denied)", e.Path)
	}
	return e.Err.Error()
}

func (e *PathError) Unwrap() error { return e.Err }

// FormatError is a file that does not hold a Nix secret key. Err comes
// from keys.ParseSecretKey, which never echoes key material.
type FormatError struct {
	Path string
	Err  error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s is not a Nix secret key: %v", e.Path, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// Hint says what a secret key file holds.
func (e *FormatError) Hint() string {
	return "a Nix secret key file holds one line NAME:BASE64, as written by \"nix key generate-secret\" or \"keyform keygen\""
}

// Stat checks that path is a regular file and returns its permission
// bits, so the caller can warn when they are Exposed.
func Stat(path string) (fs.FileMode, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, &PathError{path, err}
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	return fi.Mode().Perm(), nil
}

// MaxSize caps a secret key file: one line of about 100 bytes, so a
// path that names a device or a huge file is refused at once.
const MaxSize = 64 << 10

// Read reads the Nix secret key file at path, as "nix key generate-secret"
// writes it: a regular file of at most MaxSize. Errors are a *PathError or
// a *FormatError.
func Read(path string) (*keys.SecretKey, error) {
	data, err := safefile.ReadFile(path, MaxSize)
	if err != nil {
		return nil, &PathError{path, err}
	}
	sk, err := keys.ParseSecretKey(string(data))
	clear(data)
	if err != nil {
		return nil, &FormatError{path, err}
	}
	return sk, nil
}

// Proof is what Check found in a secret key file.
type Proof struct {
	Match     bool
	Got, Want *keys.PublicKey
	Perm      fs.FileMode // the file's permission bits: see Exposed
}

// String is the verdict, as keyform prints it after the file's name:
// "matches NAME (FINGERPRINT)" or "does not match: ...".
func (p *Proof) String() string {
	switch {
	case p.Match:
		return fmt.Sprintf("matches %s (%s)", p.Want.Name, p.Want.Fingerprint())
	case p.Got.Name != p.Want.Name:
		return fmt.Sprintf("does not match: it holds key %q (%s), but the policy's key is %q (%s)", p.Got.Name, p.Got.Fingerprint(), p.Want.Name, p.Want.Fingerprint())
	}
	return fmt.Sprintf("does not match: it holds another key named %q (%s); the policy's public key has fingerprint %s", p.Got.Name, p.Got.Fingerprint(), p.Want.Fingerprint())
}

// Check proves that the secret key file at path holds the secret key of
// want (keys.Prove, with a message from rand). Errors are those of Stat
// and Read; when Stat succeeded, the Proof is returned with the error, so
// that the caller can still warn about its Perm.
func Check(path string, want *keys.PublicKey, rand io.Reader) (*Proof, error) {
	perm, err := Stat(path)
	if err != nil {
		return nil, err
	}
	proof := &Proof{Want: want, Perm: perm}
	sk, err := Read(path)
	if err != nil {
		return proof, err
	}
	proof.Got = sk.Public()
	proof.Match, err = keys.Prove(sk, want, rand)
	return proof, err
}

// ExistsError refuses to replace a file with a secret key.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("private key file %s already exists; keyform never overwrites a private key", e.Path)
}

func (e *ExistsError) Unwrap() error { return fs.ErrExist }

// Writer writes secret key files exactly as "nix key generate-secret"
// prints them: mode 0600, parent directories created 0700.
type Writer struct {
	// Sync makes each file durable before Create returns. Without it the
	// caller makes a batch durable at once (atomicfile.Durable).
	Sync bool
	// Warn, if set, is told once per directory when a directory a secret
	// goes into lets its group or others in.
	Warn func(dir string, perm fs.FileMode)
	dirs map[string]bool
}

// Create writes sk to a new file at path; an existing file is an
// *ExistsError. On failure nothing is left at path.
func (w *Writer) Create(path string, sk *keys.SecretKey) error {
	if err := w.mkdir(filepath.Dir(path)); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return &ExistsError{path}
	}
	if err != nil {
		return err
	}
	secret := sk.Encode()
	_, err = f.Write(secret)
	clear(secret)
	if err == nil && w.Sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Replace writes sk to path atomically, replacing whatever is there; the
// file is 0600 throughout.
func (w *Writer) Replace(path string, sk *keys.SecretKey) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	secret := sk.Encode()
	defer clear(secret)
	return atomicfile.WriteFile(path, secret, 0o600)
}

func (w *Writer) mkdir(dir string) error {
	if w.dirs[dir] {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err == nil && Exposed(fi.Mode().Perm()) && w.Warn != nil {
		w.Warn(dir, fi.Mode().Perm())
	}
	if w.dirs == nil {
		w.dirs = map[string]bool{}
	}
	w.dirs[dir] = true
	return nil
}

// Install writes sk to path (Create, or Replace when force), then reads
// the file back and removes it again unless it holds sk.
func (w *Writer) Install(path string, sk *keys.SecretKey, force bool) error {
	write := w.Create
	if force {
		write = w.Replace
	}
	if err := write(path, sk); err != nil {
		return err
	}
	got, err := Read(path)
	if err == nil && !got.Equal(sk) {
		err = fmt.Errorf("%s does not hold the key that was written", path)
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("the installed file does not check out, so it was removed: %w", err)
	}
	return nil
}

// Pair is a generated key pair and where its halves go.
type Pair struct {
	Label                  string // names the pair in errors: "key LABEL: ..."
	Secret                 *keys.SecretKey
	SecretPath, PublicPath string
}

// CreatePairs writes key pairs in three steps, so that a thousand keys
// take one durability barrier instead of thousands of fsyncs: every secret
// is created (as Create does, without Sync), then all are made durable at
// once (atomicfile.Durable), then the public keys are written (atomically,
// not fsynced: a public key can be derived from its secret again). A
// public key therefore never exists without its durable secret. done is
// called with the index of each pair once it is complete. On failure, the secrets whose public
// keys were not written are removed, since they would block a retry.
func (w *Writer) CreatePairs(pairs []Pair, done func(i int)) error {
	written, published := 0, 0 // secrets of pairs[:written] are on disk
	defer func() {
		for _, p := range pairs[published:written] {
			os.Remove(p.SecretPath)
		}
	}()
	sync := w.Sync
	w.Sync = false
	defer func() { w.Sync = sync }()
	secrets := make([]string, len(pairs))
	for i, p := range pairs {
		if err := w.Create(p.SecretPath, p.Secret); err != nil {
			return fmt.Errorf("key %s: %w", p.Label, err)
		}
		written++
		secrets[i] = p.SecretPath
	}
	if err := atomicfile.Durable(secrets...); err != nil {
		return err
	}
	dirs := map[string]bool{}
	for i, p := range pairs {
		if dir := filepath.Dir(p.PublicPath); !dirs[dir] {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("key %s: %w", p.Label, err)
			}
			dirs[dir] = true
		}
		pub := []byte(p.Secret.Public().String() + "\n")
		if err := atomicfile.Write(p.PublicPath, pub, atomicfile.Options{Perm: 0o644, NoSync: true}); err != nil {
			return fmt.Errorf("key %s: %w", p.Label, err)
		}
		published++
		done(i)
	}
	return nil
}
