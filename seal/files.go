package seal

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// Sealed is a key sealed to the recipients the policy wants, with its
// record, ready to be written. Everything is prepared before anything is
// written, so a failure leaves the files as they were.
type Sealed struct {
	Status       *Status
	data, record []byte
}

// Prepare seals sk to the recipients st wants and builds the record.
func Prepare(st *Status, sk *keys.SecretKey) (*Sealed, error) {
	k := st.Key
	var buf bytes.Buffer
	if err := Seal(&buf, sk, Recipients(st.Want)); err != nil {
		return nil, fmt.Errorf("seal %s: %w", k.Label, err)
	}
	rec := &Record{Key: k.Label, PublicKey: k.PublicKey, SHA256: Hash(buf.Bytes()), Entries: st.Want}
	return &Sealed{Status: st, data: buf.Bytes(), record: rec.Marshal()}, nil
}

// Write writes the sealed file, then its record, under dir (the policy
// directory). The record binds the sealed file by hash, so a crash between
// the two shows up as stale, not as current.
func (s *Sealed) Write(dir string) error {
	name := filepath.Join(dir, s.Status.Key.SealedFile)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(name, s.data, 0o644); err != nil {
		return err
	}
	return atomicfile.WriteFile(RecordPath(name), s.record, 0o644)
}

// Remove deletes k's sealed file and record under dir, for a key no
// publisher recipient wants any more. Missing files are fine.
func Remove(dir string, k *policy.Key) error {
	name := filepath.Join(dir, k.SealedFile)
	for _, f := range []string{name, RecordPath(name)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// MismatchError reports a secret key that is not the key whose public key
// the policy commits to, for example one sealed before the key was
// replaced.
type MismatchError struct {
	Key       *policy.Key
	Got, Want *keys.PublicKey
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("holds key %q (%s), not key %s's committed public key %q (%s)",
		e.Got.Name, e.Got.Fingerprint(), e.Key.Label, e.Want.Name, e.Want.Fingerprint())
}

// CheckKey returns a *MismatchError unless sk is the secret key of k's
// public key.
func CheckKey(k *policy.Key, sk *keys.SecretKey) error {
	pk, err := keys.ParsePublicKey(k.PublicKey)
	if err != nil {
		return err
	}
	if got := sk.Public(); !got.Equal(pk) {
		return &MismatchError{Key: k, Got: got, Want: pk}
	}
	return nil
}

// OpenKey decrypts k's sealed file under dir with the first of ids that
// can, and checks that it holds k's key. Errors: the *fs.PathError of a
// sealed file that cannot be opened, Open's (ErrNoMatch, ErrPassphrase,
// ...), or a *MismatchError.
func OpenKey(dir string, k *policy.Key, ids ...age.Identity) (*keys.SecretKey, error) {
	f, err := os.Open(filepath.Join(dir, k.SealedFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sk, err := Open(f, ids...)
	if err != nil {
		return nil, err
	}
	if err := CheckKey(k, sk); err != nil {
		return nil, err
	}
	return sk, nil
}
