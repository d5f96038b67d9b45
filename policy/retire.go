package policy

import (
	"fmt"
	"strings"

	"github.com/keyform/keyform/internal/hint"
)

// CheckRetirable refuses to retire k while a target trusts it directly
// (key.LABEL in its trust list: a retired key may not be trusted) or a
// publisher signs with it. The hint says what to remove, and where.
func (p *Policy) CheckRetirable(k *Key) error {
	if ts := p.TrustingDirectly(k); len(ts) > 0 {
		ids, at := make([]string, len(ts)), make([]string, len(ts))
		for i, t := range ts {
			ids[i], at[i] = t.ID(), t.Pos.String()
		}
		return hint.Wrap(fmt.Errorf("key %s is trusted directly by %s, and a retired key may not be trusted", k.Label, strings.Join(ids, ", ")),
			"remove key.%s from the trust list of %s (%s), then run \"keyform retire %s\" again", k.Label, strings.Join(ids, ", "), strings.Join(at, ", "), k.Label)
	}
	if pubs := p.PublishersOf(k.Label); len(pubs) > 0 {
		labels := make([]string, len(pubs))
		for i, pub := range pubs {
			labels[i] = pub.Label
		}
		return hint.Wrap(fmt.Errorf("publisher %s still signs with key %s", strings.Join(labels, ", "), k.Label),
			"remove key.%s from the keys of publisher %s, then run \"keyform retire %s\" again", k.Label, strings.Join(labels, ", "), k.Label)
	}
	return nil
}
