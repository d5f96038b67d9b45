// Package rotation carries out a key rotation ("keyform rotate"): the
// successor's key pair and the policy edit that adds it, written both or
// neither. The edit itself is schema's (EditSet.AddSuccessor), the secret
// file seal.KeyFiles'.
package rotation

import (
	"fmt"
	"os"
	"strings"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
	"github.com/keyform/keyform/seal"
)

// Rotation is what Rotate did: Old got the successor New, whose public
// key is PublicKey, and the targets TrustedBy now name New next to Old.
type Rotation struct {
	Old       *policy.Key
	New       schema.KeyBlock
	PublicKey string
	TrustedBy []string
}

// Report says what the rotation changed and what comes next: rolling the
// new key out before signing with it, the publishers that sign with the old
// key (p is the policy before the rotation), and retiring the old key.
func (r *Rotation) Report(rep report.Reporter, p *policy.Policy) {
	old, nk := r.Old, r.New
	where := "no catalog"
	if nk.Catalog != "" {
		where = "catalog " + nk.Catalog
	}
	rep.Printf("key %s (%s) added after %s in %s, in %s", nk.Label, nk.Name, old.Label, old.Pos.File, where)
	rep.Printf("key %s: secret written to %s (0600), public key to %s", nk.Label, nk.PrivateKeyPath, nk.PublicKeyFile)
	if len(r.TrustedBy) > 0 {
		rep.Printf("key.%s added next to key.%s in the trust list of %s", nk.Label, old.Label, strings.Join(r.TrustedBy, ", "))
	}
	for _, pub := range p.PublishersOf(old.Label) {
		rep.Printf("publisher %s signs with key.%s; when it should sign with the new key, add key.%s to its keys and run \"keyform seal %s\"", pub.Label, old.Label, nk.Label, nk.Label)
	}
	rep.Nextf("run \"keyform render\", review with \"keyform plan\", merge and roll out; once every machine trusts %s, sign with it and run \"keyform retire %s\"", nk.Name, old.Label)
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
	r := &Rotation{Old: old, New: nk, PublicKey: sk.Public().String()}
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
