package seal

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/policy"
)

// This file is "keyform unseal" and "keyform keys check": where a key is
// installed on this machine, installing it there, and proving what is
// there.

// Unseal says where "keyform unseal" installs a key.
type Unseal struct {
	// Out (absolute) installs the key there instead of where Publisher
	// keeps it.
	Out string
	// Publisher names the publisher whose path to use; "" is the path every
	// publisher of the key uses (policy.Policy.KeyPathFor).
	Publisher string
	// Force replaces a file already there.
	Force bool
}

// Unseal decrypts k's sealed file with the identities ids returns and
// installs it (mode 0600) where u says, reporting it on w. Everything is
// checked before ids is called and before anything is written: the path
// must be outside the repository and, without Force, free.
func (f KeyFiles) Unseal(w io.Writer, p *policy.Policy, k *policy.Key, u Unseal, ids func() (*Identities, error)) error {
	out := filepath.Clean(u.Out)
	if u.Out == "" {
		var err error
		if out, err = p.KeyPathFor(k, u.Publisher); err != nil {
			return err
		}
	}
	if out == "" {
		return hint.Wrap(fmt.Errorf("key %s has no private_key_path, so there is nowhere to install it", k.Label),
			"pass --out /absolute/path, or set private_key_path on the key or private_key_dir on its publisher")
	}
	if err := f.Outside(out); err != nil {
		return err
	}
	if _, err := os.Lstat(out); err == nil && !u.Force {
		return hint.Wrap(fmt.Errorf("%s already exists; keyform never overwrites a private key", out),
			"check what it holds with \"keyform keys check %s --secret %s\"; pass --force to replace it", k.Label, out)
	}
	got, err := ids()
	if err != nil {
		return err
	}
	sk, err := OpenKey(f.Resolve("."), k, got)
	if err != nil {
		return err
	}
	return f.Install(w, k, sk, out, u.Force)
}

// CheckInstalled proves the private key file of k ("keyform keys check"):
// secret when given (relative to the policy directory), else where the
// publisher labelled publisher keeps it, or without one where every
// publisher of k does (policy.Policy.KeyPathFor). It returns the file's
// absolute path and the proof (Prove).
func (f KeyFiles) CheckInstalled(p *policy.Policy, k *policy.Key, publisher, secret string) (string, *secretfile.Proof, error) {
	path := secret
	if path == "" {
		var err error
		if path, err = p.KeyPathFor(k, publisher); err != nil {
			return "", nil, err
		}
	}
	if path == "" {
		return "", nil, hint.Wrap(fmt.Errorf("key %s has no private_key_path", k.Label),
			"pass the file to check: keyform keys check %s --secret /path/to/key", k.Label)
	}
	path, err := filepath.Abs(f.Resolve(path))
	if err != nil {
		return "", nil, err
	}
	proof, err := f.Prove(k, path)
	return path, proof, err
}
