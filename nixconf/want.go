package nixconf

import "github.com/keyform/keyform/policy"

// WantOf is what target t needs from a nix.conf: its active keys trusted,
// its retired keys not, its catalogs' substituters configured, with the
// policy's labels for reports.
func WantOf(t *policy.Target) Want {
	w := Want{Target: t.ID(), Substituters: t.Substituters, Labels: map[string]string{}}
	for _, k := range t.Keys {
		w.Keys = append(w.Keys, k.PublicKey)
		w.Labels[k.PublicKey] = k.Label
	}
	for _, k := range t.Retired {
		w.Retired = append(w.Retired, k.PublicKey)
		w.Labels[k.PublicKey] = k.Label
	}
	return w
}
