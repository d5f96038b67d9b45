// Package rotation carries out a key rotation ("keyform rotate"): the
// successor's key pair and the policy edit that adds it, written both or
// neither. The edit itself is schema's (EditSet.AddSuccessor), the secret
// file seal.KeyFiles'.
package rotation

import (
	"fmt"
	"os"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
	"github.com/keyform/keyform/seal"
)

// Rotation is what Rotate did: the new key's public key, and the targets
// whose trust lists now name the new key next to the old one.
type Rotation struct {
	PublicKey string
	TrustedBy []string
}

// Rotate carries out "keyform rotate" with the key files f: old gets the
// successor nk (completed by schema.Successor). It refuses when a file it would write exists,
// generates the new pair, edits the policy in es (AddSuccessor), and has
// validate load the edited policy, which must hold the new key. Only then
// does it write the secret (0600, never overwriting) and the policy; when
// the policy cannot be written, the secret is removed again, since no
// policy mentions it.
func Rotate(f seal.KeyFiles, es *schema.EditSet, old *policy.Key, nk schema.KeyBlock, validate func() (*policy.Policy, error)) (*Rotation, error) {
	if _, err := os.Lstat(nk.PrivateKeyPath); err == nil {
		return nil, hint.Wrap(fmt.Errorf("private key file %s already exists; keyform never overwrites a private key", nk.PrivateKeyPath),
			"move it away, or choose another path with --private-key-path")
	}
	if _, err := os.Lstat(f.Resolve(nk.PublicKeyFile)); err == nil {
		return nil, hint.Wrap(fmt.Errorf("public key file %s already exists", nk.PublicKeyFile), "remove it if it is stale, or choose another path with --public-key-file")
	}
	sk, err := keys.Generate(nk.Name, f.Rand)
	if err != nil {
		return nil, err
	}
	r := &Rotation{PublicKey: sk.Public().String()}
	if r.TrustedBy, err = es.AddSuccessor(old, nk, r.PublicKey); err != nil {
		return nil, err
	}
	edited, err := validate()
	if err != nil {
		return nil, err
	}
	if k := edited.Key(nk.Label); k == nil || k.PublicKey != r.PublicKey {
		return nil, fmt.Errorf("the edited policy does not hold the new key %s as expected; nothing was written (a keyform bug)", nk.Label)
	}
	if err := f.Writer(true).Create(nk.PrivateKeyPath, sk); err != nil {
		return nil, fmt.Errorf("key %s: %w", nk.Label, err)
	}
	if err := es.Write(); err != nil {
		os.Remove(nk.PrivateKeyPath)
		return nil, fmt.Errorf("key %s: %w (the new secret key was removed again)", nk.Label, err)
	}
	return r, nil
}
