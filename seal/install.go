package seal

import (
	"fmt"
	"os"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// Install is one key of a publisher's setup ("keyform publisher setup"):
// Secret is to be installed at Path, or, when nil, the file already there
// is only checked.
type Install struct {
	Key    *policy.Key
	Path   string
	Secret *keys.SecretKey
}

// PlanInstall decides, for each key of pub, whether the file where pub
// keeps it (policy.Publisher.KeyPath) is checked in place or unsealed from
// the policy directory dir, and unseals those in memory, so that a failure
// leaves nothing written. A directory that cannot be written is found here
// (a *secretfile.NotWritableError). outside refuses paths where a private
// key must not go. ids returns the identities to unseal with and is called
// at most once, so a passphrase is asked for once; nil means none were
// given.
func PlanInstall(dir string, p *policy.Policy, pub *policy.Publisher, force bool, outside func(path string) error, ids func() (*Identities, error)) ([]Install, error) {
	var plan []Install
	var got *Identities
	for _, label := range pub.Keys {
		k, err := p.FindGeneratedKey(label)
		if err != nil {
			return nil, err
		}
		in := Install{Key: k, Path: pub.KeyPath(k)}
		if in.Path == "" {
			return nil, hint.Wrap(fmt.Errorf("publisher %s: key %s has no private_key_path, so there is nowhere to install it", pub.Label, k.Label),
				"pass --out-dir DIR, or set private_key_dir on publisher %q or private_key_path on the key", pub.Label)
		}
		if err := outside(in.Path); err != nil {
			return nil, err
		}
		if _, err := os.Lstat(in.Path); err == nil && !force {
			plan = append(plan, in)
			continue
		}
		if err := secretfile.CheckWritable(in.Path); err != nil {
			return nil, fmt.Errorf("publisher %s: key %s: %w", pub.Label, k.Label, err)
		}
		if ids == nil {
			return nil, hint.Wrap(fmt.Errorf("publisher %s: key %s is not installed at %s, and unsealing it needs --identity", pub.Label, k.Label, in.Path),
				"pass your age identity file or SSH private key: keyform publisher setup %s --identity ~/.ssh/id_ed25519", pub.Label)
		}
		if got == nil {
			if got, err = ids(); err != nil {
				return nil, err
			}
		}
		if in.Secret, err = OpenKey(dir, k, got); err != nil {
			return nil, err
		}
		plan = append(plan, in)
	}
	return plan, nil
}
