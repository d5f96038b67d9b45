package seal

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/safefile"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// This file is what seal, reseal, unseal and publisher setup do with a
// key's files: read the secret to seal, seal it, write and remove sealed
// files, and open them again. Errors say how to fix what went wrong
// (internal/hint).

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

// ReadSecret reads the Nix secret key file at path to seal k with, and
// refuses it unless it is k's key.
func ReadSecret(k *policy.Key, path string) (*keys.SecretKey, error) {
	sk, err := secretfile.Read(path)
	var fe *secretfile.FormatError
	switch {
	case errors.As(err, &fe):
		return nil, fmt.Errorf("key %s: %w", k.Label, err)
	case err != nil:
		return nil, fmt.Errorf("key %s: cannot read the private key: %w", k.Label, err)
	}
	var me *MismatchError
	if err := CheckKey(k, sk); errors.As(err, &me) {
		return nil, hint.Wrap(fmt.Errorf("refusing to seal: %s %w; nothing was written", path, me),
			"seal the private key that belongs to %s's public key in the policy", k.Label)
	} else if err != nil {
		return nil, err
	}
	return sk, nil
}

// Identities are the age identities read from one file, the private half
// of a publisher's recipient.
type Identities struct {
	Path string
	IDs  []age.Identity
}

// MaxIdentityFileSize caps an identity file: an age identity or SSH
// private key is a few KiB at most.
const MaxIdentityFileSize = 1 << 20

// ReadIdentities reads an age identity file or SSH private key
// (ParseIdentities; passphrase unlocks an encrypted SSH key).
func ReadIdentities(path string, passphrase func() ([]byte, error)) (*Identities, error) {
	data, err := safefile.ReadFile(path, MaxIdentityFileSize)
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", &secretfile.PathError{Path: path, Err: err})
	}
	defer clear(data)
	ids, err := ParseIdentities(data, passphrase)
	if err != nil {
		return nil, hint.Wrap(fmt.Errorf("identity file %s: %w", path, err),
			"pass the private half of your recipient: an age identity file (age-keygen -o FILE) or an SSH private key such as ~/.ssh/id_ed25519")
	}
	return &Identities{Path: path, IDs: ids}, nil
}

// OpenKey decrypts k's sealed file under dir (the policy directory) with
// ids and makes sure it holds the key whose public key the policy commits
// to.
func OpenKey(dir string, k *policy.Key, ids *Identities) (*keys.SecretKey, error) {
	f, err := OpenFile(filepath.Join(dir, k.SealedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, hint.Wrap(fmt.Errorf("key %s is not sealed: %s does not exist", k.Label, k.SealedFile),
			"someone who holds the private key runs \"keyform seal %s\" and commits %s", k.Label, k.SealedFile)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sk, err := Open(f, ids.IDs...)
	switch {
	case errors.Is(err, ErrNoMatch):
		return nil, hint.Wrap(fmt.Errorf("cannot unseal %s with %s: %w", k.Label, ids.Path, err),
			"%s lists who can; to be added, put your public key in a publisher's recipients and have someone who can unseal %s run \"keyform reseal %s\"",
			RecordPath(k.SealedFile), k.Label, k.Label)
	case errors.Is(err, ErrPassphrase):
		return nil, hint.Wrap(fmt.Errorf("cannot unseal %s with %s: %w", k.Label, ids.Path, err),
			"run keyform in a terminal to type the passphrase, or use an age identity (age-keygen) as your recipient")
	case err != nil:
		return nil, fmt.Errorf("cannot unseal %s from %s: %w", k.Label, k.SealedFile, err)
	}
	var me *MismatchError
	if err := CheckKey(k, sk); errors.As(err, &me) {
		return nil, hint.Wrap(fmt.Errorf("%s %w; nothing was written", k.SealedFile, me),
			"the key was replaced after it was sealed: whoever holds the new private key runs \"keyform seal %s\"", k.Label)
	} else if err != nil {
		return nil, err
	}
	return sk, nil
}

// ResealSecret gets k's secret to seal it again: from its sealed file
// under dir with ids (when not nil), else from its private_key_path on
// this machine, which is the only source for a key never sealed.
func ResealSecret(dir string, k *policy.Key, ids *Identities) (*keys.SecretKey, error) {
	var errs []string
	_, err := os.Stat(filepath.Join(dir, k.SealedFile))
	sealed := err == nil
	if ids != nil {
		if sealed {
			sk, err := OpenKey(dir, k, ids)
			if err == nil {
				return sk, nil
			}
			errs = append(errs, err.Error())
		}
	}
	if k.PrivateKeyPath != "" {
		if _, err := os.Stat(k.PrivateKeyPath); err == nil {
			return ReadSecret(k, k.PrivateKeyPath)
		}
	}
	at := k.PrivateKeyPath
	if at == "" {
		at = "-"
	}
	if !sealed {
		return nil, hint.Wrap(fmt.Errorf("cannot seal %s: it was never sealed, so only its private key can be, and there is none at %s", k.Label, at),
			"run \"keyform seal %s --secret FILE\" where the private key is", k.Label)
	}
	if len(errs) > 0 {
		return nil, hint.Wrap(fmt.Errorf("cannot reseal %s: %s", k.Label, strings.Join(errs, "; ")),
			"use an identity that %s lists, or run reseal where the private key is at %s", RecordPath(k.SealedFile), at)
	}
	return nil, hint.Wrap(fmt.Errorf("cannot reseal %s: no --identity given and no private key at %s", k.Label, at),
		"pass --identity with your age identity or SSH private key, if %s lists you", RecordPath(k.SealedFile))
}

// Reseal is what "keyform reseal" does to one key.
type Reseal struct {
	*Status
	// Sealed is the key sealed anew in memory, for a Stale or Missing key
	// when not only checking.
	Sealed *Sealed
	// Err says why a Stale or Missing key cannot be sealed anew.
	Err error
}

// PlanReseal compares the sealed files of ks under dir (the policy
// directory) with p and, unless only checking, seals each Stale or Missing
// key anew in memory, with the secret ResealSecret finds (ids may be nil):
// nothing is written, so that the caller can refuse to write anything
// unless every key can be resealed.
func PlanReseal(dir string, p *policy.Policy, ks []*policy.Key, ids *Identities, check bool) ([]Reseal, error) {
	rs := make([]Reseal, 0, len(ks))
	for _, k := range ks {
		st, err := Check(os.DirFS(dir), p, k)
		if err != nil {
			return nil, err
		}
		r := Reseal{Status: st}
		if !check && (st.State == Stale || st.State == Missing) {
			var sk *keys.SecretKey
			if sk, r.Err = ResealSecret(dir, k, ids); r.Err == nil {
				r.Sealed, r.Err = Prepare(st, sk)
			}
		}
		rs = append(rs, r)
	}
	return rs, nil
}
