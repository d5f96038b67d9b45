package resign

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// Warner receives the warning about a secret key file others can read
// (the keyform command's reporter implements it).
type Warner interface {
	Warnf(format string, args ...any)
}

// KeySource is where resign finds the secret key of a key, and how it
// checks the file's place.
type KeySource struct {
	// Secret is the file given with --secret, absolute; "" means the
	// key's private_key_path.
	Secret string
	// Outside refuses a file inside the policy directory or its git work
	// tree, where the key could be committed.
	Outside func(path string) error
	Warn    Warner
}

// File is the secret key file of k: Secret, else k's private_key_path.
func (s KeySource) File(k *policy.Key) (string, error) {
	switch {
	case s.Secret != "":
		return s.Secret, nil
	case k.PrivateKeyPath != "":
		return k.PrivateKeyPath, nil
	}
	return "", hint.Wrap(fmt.Errorf("no secret key for %s", k.Label), "pass --secret FILE or keyform unseal %s", k.Label)
}

// Read reads k's secret key file and proves it is k's before anything in
// the cache is read. Errors never show key material.
func (s KeySource) Read(k *policy.Key, file string) (*keys.SecretKey, error) {
	if err := s.Outside(file); err != nil {
		return nil, err
	}
	perm, err := secretfile.Stat(file)
	if err == nil && secretfile.Exposed(perm) {
		s.Warn.Warnf("%s is readable by group or others (mode %04o); run: chmod 600 %s", file, perm, file)
	}
	sk, err := secretfile.Read(file)
	if err == nil {
		err = CheckKey(sk, k.PublicKey)
	}
	var pe *secretfile.PathError
	if errors.As(err, &pe) {
		return nil, hint.Wrap(fmt.Errorf("key %s: %w", k.Label, err), "pass --secret FILE or keyform unseal %s", k.Label)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.Label, err)
	}
	return sk, nil
}

// SignCommand is the nix store sign command (Command) for a store keyform
// cannot write. The key file, when it is on this machine, is proved k's
// first, so the command printed works.
func (s KeySource) SignCommand(k *policy.Key, store, keyFile, paths string) (string, error) {
	if _, err := secretfile.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		if _, err := s.Read(k, keyFile); err != nil {
			return "", err
		}
	}
	return Command(store, keyFile, paths), nil
}
