package seal

import (
	"fmt"
	"io"
	"os"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// This file is "keyform keygen": which declared keys may get a new pair,
// and writing both halves of each.

// CheckGenerate refuses to generate a pair for k when keygen has nowhere
// to write it, when k already has a public key that machines trust (unless
// replace), or when its private key file exists: keyform never overwrites
// a private key.
func CheckGenerate(k *policy.Key, replace bool) error {
	switch {
	case k.PublicKeyFile == "":
		return hint.Wrap(fmt.Errorf("key %s has an inline public_key, so keygen has nowhere to write a new one", k.Label),
			"replace public_key with public_key_file = \"keys/%s.pub\" to let keygen manage it", k.Label)
	case !k.Pending() && !replace:
		return hint.Wrap(fmt.Errorf("key %s already has a public key in %s; every machine that trusts it would break if it changed", k.Label, k.PublicKeyFile),
			"to move to a new key run \"keyform rotate %s\"; to replace it in place anyway pass --replace", k.Label)
	case k.PrivateKeyPath == "":
		return hint.Wrap(fmt.Errorf("key %s has no private_key_path", k.Label),
			"add private_key_path = \"/var/lib/keyform/%s.key\" (an absolute path outside the repository)", k.Name)
	}
	if _, err := os.Lstat(k.PrivateKeyPath); err == nil {
		return hint.Wrap(fmt.Errorf("key %s: private key file %s already exists; keyform never overwrites a private key", k.Label, k.PrivateKeyPath),
			"if it is the key of %s, write its public key with \"keyform pubkey < %s > %s\"; otherwise move it away first", k.Label, k.PrivateKeyPath, k.PublicKeyFile)
	}
	return nil
}

// Generate generates a key pair for each of ks and writes its secret to
// the key's private_key_path and its public key to its public_key_file
// (secretfile.CreatePairs: secrets first,
// durable, then public keys). Every key is checked (CheckGenerate) before
// anything is written, so a refusal leaves no half-generated set behind.
// Each written pair is reported to Rep and its public key printed on w.
func (f KeyFiles) Generate(w io.Writer, ks []*policy.Key, replace bool) error {
	for _, k := range ks {
		if err := CheckGenerate(k, replace); err != nil {
			return err
		}
	}
	pairs := make([]secretfile.Pair, len(ks))
	for i, k := range ks {
		sk, err := keys.Generate(k.Name, f.Rand)
		if err != nil {
			return fmt.Errorf("key %s: %w", k.Label, err)
		}
		pairs[i] = secretfile.Pair{Label: k.Label, Secret: sk, SecretPath: k.PrivateKeyPath, PublicPath: f.Resolve(k.PublicKeyFile)}
	}
	return f.Writer(false).CreatePairs(pairs, func(i int) {
		k := ks[i]
		f.Rep.Printf("key %s: secret written to %s (0600), public key to %s", k.Label, k.PrivateKeyPath, k.PublicKeyFile)
		fmt.Fprintln(w, pairs[i].Secret.Public().String())
	})
}

// GenerateStandalone generates a key pair named name without a policy
// ("keygen --name"): the secret goes to secretPath (absolute, never
// overwritten), the public key to publicFile too unless it is "" (never
// overwritten either). It returns the public key.
func (f KeyFiles) GenerateStandalone(name, secretPath, publicFile string) (*keys.PublicKey, error) {
	sk, err := keys.Generate(name, f.Rand)
	if err != nil {
		return nil, err
	}
	if publicFile != "" {
		if _, err := os.Lstat(f.Resolve(publicFile)); err == nil {
			return nil, fmt.Errorf("--public-out %s already exists; not overwriting it", publicFile)
		}
	}
	if err := f.Writer(true).Create(secretPath, sk); err != nil {
		return nil, err
	}
	pk := sk.Public()
	if publicFile != "" {
		if err := os.WriteFile(f.Resolve(publicFile), []byte(pk.String()+"\n"), 0o644); err != nil {
			os.Remove(secretPath)
			return nil, err
		}
	}
	return pk, nil
}
