package policy

import "time"

// KeyInfo is one key as "keyform keys list" shows it; it is also the JSON
// shape of "keys list --json", so the field names are part of keyform's
// stable interface.
type KeyInfo struct {
	Label       string   `json:"label"`
	Name        string   `json:"name"`
	State       string   `json:"state"`
	Catalog     string   `json:"catalog,omitempty"`
	PublicKey   string   `json:"public_key,omitempty"`
	Fingerprint string   `json:"fingerprint,omitempty"`
	Expires     string   `json:"expires,omitempty"`
	TrustedBy   []string `json:"trusted_by"`
}

// KeyInfos lists every key in declaration order, its state judged at now
// (Key.Status) and the targets trusting it ([] rather than null in JSON
// for a key nobody trusts).
func (p *Policy) KeyInfos(now time.Time) []KeyInfo {
	trustedBy := p.TrustedBy()
	infos := make([]KeyInfo, 0, len(p.Keys))
	for _, k := range p.Keys {
		info := KeyInfo{
			Label: k.Label, Name: k.Name, State: k.Status(now), Catalog: k.Catalog,
			PublicKey: k.PublicKey, Fingerprint: k.Fingerprint, TrustedBy: trustedBy[k],
		}
		if info.TrustedBy == nil {
			info.TrustedBy = []string{}
		}
		if !k.Expires.IsZero() {
			info.Expires = k.Expires.Format(time.DateOnly)
		}
		infos = append(infos, info)
	}
	return infos
}
