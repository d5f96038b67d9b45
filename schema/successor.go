package schema

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

var (
	// ErrTaken: another key of the policy already has the name or label.
	ErrTaken = errors.New("already used in the policy")
	// ErrNoDefault: the old key has no private_key_path to put the new
	// secret next to, so one has to be given.
	ErrNoDefault = errors.New("no default: the old key has no private_key_path")
)

// SuccessorError is a value for a rotation's new key that cannot be used.
type SuccessorError struct {
	Field string // "name", "label", "private_key_path" or "public_key_file"
	Value string
	Err   error // ErrTaken, ErrNoDefault, or why Value is invalid
}

func (e *SuccessorError) Error() string { return fmt.Sprintf("%s %q: %v", e.Field, e.Value, e.Err) }
func (e *SuccessorError) Unwrap() error { return e.Err }

// CheckRotatable refuses to rotate a key that is retired, or that has no
// public key yet: only an active, generated key gets a successor.
func CheckRotatable(old *policy.Key) error {
	switch {
	case old.State == policy.Retired:
		return hint.Wrap(fmt.Errorf("key %s is retired; rotate an active key", old.Label), "run \"keyform keys list\" to see the active keys")
	case old.Pending():
		return hint.Wrap(fmt.Errorf("key %s has no public key yet, so there is nothing to rotate", old.Label), "generate it with \"keyform keygen %s\"", old.Label)
	}
	return nil
}

// Successor completes nk, the key block of a rotation of old (a key of p):
// it stays in old's catalog, and each field left empty gets its default.
//
//   - Name: old's Nix name with its trailing -N incremented
//     (SuccessorName), moving on while the name is taken.
//   - Label: old's label with its trailing number incremented
//     (SuccessorLabel), moving on while the label is taken.
//   - PrivateKeyPath: NAME.key in the directory of old's private key.
//   - PublicKeyFile: NAME.pub in the directory of old's public key file,
//     keys/ when old's public key is inline.
//
// Given values must be valid and unused; paths are cleaned. Errors are
// *SuccessorError. Whether the files exist is the caller's business.
func Successor(p *policy.Policy, old *policy.Key, nk KeyBlock) (KeyBlock, error) {
	nk.Catalog = old.Catalog
	nameUsed := func(n string) bool {
		for _, k := range p.Keys {
			if k.Name == n {
				return true
			}
		}
		return false
	}
	if nk.Name == "" {
		nk.Name = SuccessorName(old.Name)
		for nameUsed(nk.Name) {
			nk.Name = SuccessorName(nk.Name)
		}
	} else if err := keys.ValidateName(nk.Name); err != nil {
		return nk, &SuccessorError{"name", nk.Name, err}
	} else if nameUsed(nk.Name) {
		return nk, &SuccessorError{"name", nk.Name, ErrTaken}
	}
	if nk.Label == "" {
		nk.Label = SuccessorLabel(old.Label)
		for p.Key(nk.Label) != nil {
			nk.Label = SuccessorLabel(nk.Label)
		}
	} else if err := CheckLabel(nk.Label); err != nil {
		return nk, &SuccessorError{"label", nk.Label, err}
	} else if p.Key(nk.Label) != nil {
		return nk, &SuccessorError{"label", nk.Label, ErrTaken}
	}
	switch {
	case nk.PrivateKeyPath == "" && old.PrivateKeyPath == "":
		return nk, &SuccessorError{"private_key_path", "", ErrNoDefault}
	case nk.PrivateKeyPath == "":
		nk.PrivateKeyPath = filepath.Join(filepath.Dir(old.PrivateKeyPath), nk.Name+".key")
	case !filepath.IsAbs(nk.PrivateKeyPath):
		return nk, &SuccessorError{"private_key_path", nk.PrivateKeyPath, errors.New("must be an absolute path")}
	}
	nk.PrivateKeyPath = filepath.Clean(nk.PrivateKeyPath)
	if nk.PublicKeyFile == "" {
		dir := "keys"
		if old.PublicKeyFile != "" {
			dir = filepath.Dir(old.PublicKeyFile)
		}
		nk.PublicKeyFile = filepath.Join(dir, nk.Name+".pub")
	} else if !filepath.IsLocal(nk.PublicKeyFile) {
		return nk, &SuccessorError{"public_key_file", nk.PublicKeyFile, errors.New("must be a path inside the policy directory")}
	}
	nk.PublicKeyFile = filepath.ToSlash(filepath.Clean(nk.PublicKeyFile))
	return nk, nil
}

// AddSuccessor edits the policy for a rotation of old to nk (completed by
// Successor), in memory: nk's block goes right after old's (AddKeyAfter),
// key.NK next to key.OLD in every trust list that names old
// (AddTrustRef), and pub into nk's public key file. It returns the IDs of
// the targets whose trust lists changed.
func (es *EditSet) AddSuccessor(old *policy.Key, nk KeyBlock, pub string) ([]string, error) {
	src, err := es.Current(old.Pos.File)
	if err != nil {
		return nil, err
	}
	out, err := AddKeyAfter(src, old.Pos.File, old.Label, nk)
	if err != nil {
		return nil, err
	}
	es.Set(old.Pos.File, out)
	files, err := es.PolicyFiles()
	if err != nil {
		return nil, err
	}
	var trustedBy []string
	for _, name := range files {
		src, err := es.Current(name)
		if err != nil {
			return nil, err
		}
		out, ids, err := AddTrustRef(src, name, old.Label, nk.Label)
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			es.Set(name, out)
			trustedBy = append(trustedBy, ids...)
		}
	}
	es.Set(nk.PublicKeyFile, []byte(pub+"\n"))
	return trustedBy, nil
}
