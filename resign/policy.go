package resign

import (
	"context"
	"fmt"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
)

// SigningKey is the key labelled label as resign needs it: generated and
// active. A retired key points at its successor.
func SigningKey(p *policy.Policy, label string) (*policy.Key, error) {
	k, err := p.FindGeneratedKey(label)
	if err != nil || k.State == policy.Active {
		return k, err
	}
	err = fmt.Errorf("key %s is %s: resign with its successor", k.Label, k.State)
	if s := audit.Successor(p, k); s != nil {
		return nil, hint.Wrap(err, "keyform resign %s", s.Label)
	}
	return nil, err
}

// StoreOf is the cache to sign with k: store when given, else the only
// substituter of k's catalog.
func StoreOf(p *policy.Policy, k *policy.Key, store string) (string, error) {
	if store != "" {
		return store, nil
	}
	c := p.Catalog(k.Catalog)
	if c == nil {
		return "", hint.Wrap(fmt.Errorf("key %s belongs to no catalog, so keyform knows no cache it signs", k.Label), "pass --store URL")
	}
	subs := c.Substituters
	switch len(subs) {
	case 1:
		return subs[0], nil
	case 0:
		return "", hint.Wrap(fmt.Errorf("catalog %s has no substituter to sign", k.Catalog), "pass --store URL")
	}
	return "", hint.Wrap(fmt.Errorf("catalog %s has %d substituters", k.Catalog, len(subs)), "pass --store URL")
}

// Store opens the file:// cache at storeURL and signs it (File). It
// returns the store's URL for messages (without credentials).
func Store(ctx context.Context, storeURL string, o Options) (string, *Result, error) {
	s, err := binarycache.Open(ctx, storeURL, binarycache.Options{})
	if err != nil {
		return "", nil, err
	}
	defer s.Close()
	fs, ok := s.(*binarycache.FileStore)
	if !ok {
		return "", nil, fmt.Errorf("%s: keyform writes only file:// caches", s.URL())
	}
	r, err := File(ctx, fs, o)
	return s.URL(), r, err
}
