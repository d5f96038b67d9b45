package plan

import (
	"slices"

	"github.com/keyform/keyform/policy"
)

// PublisherChange is a publisher whose access to private keys changed.
// Recipients are public age or SSH keys, never secrets.
type PublisherChange struct {
	Label             string      `json:"label"`
	Change            string      `json:"change"` // added, removed, modified
	KeysAdded         []string    `json:"keys_added"`
	KeysRemoved       []string    `json:"keys_removed"`
	RecipientsAdded   []string    `json:"recipients_added"`
	RecipientsRemoved []string    `json:"recipients_removed"`
	Flox              *BoolChange `json:"flox,omitempty"`
}

// publishers compares who holds which private keys. Granting a key is a
// reseal; taking one away is a rotation, because the publisher had the
// private key and may have kept it.
func (c *comparison) publishers() {
	var labels []string
	for _, p := range c.base.Publishers {
		labels = append(labels, p.Label)
	}
	for _, p := range c.head.Publishers {
		labels = append(labels, p.Label)
	}
	slices.Sort(labels)
	labels = slices.Compact(labels)
	for _, label := range labels {
		b, h := c.base.Publisher(label), c.head.Publisher(label)
		pc := PublisherChange{Label: label, Change: Modified}
		var bKeys, hKeys, bRecips, hRecips []string
		if b != nil {
			bKeys, bRecips = b.Keys, b.Recipients
		} else {
			pc.Change = Added
		}
		if h != nil {
			hKeys, hRecips = h.Keys, h.Recipients
		} else {
			pc.Change = Removed
		}
		pc.KeysAdded, pc.KeysRemoved = diffStrings(bKeys, hKeys)
		pc.RecipientsAdded, pc.RecipientsRemoved = diffStrings(sortedCopy(bRecips), sortedCopy(hRecips))
		if b != nil && h != nil && b.Flox != h.Flox {
			pc.Flox = &BoolChange{Before: b.Flox, After: h.Flox}
		}
		if pc.Change == Modified && len(pc.KeysAdded)+len(pc.KeysRemoved)+len(pc.RecipientsAdded)+len(pc.RecipientsRemoved) == 0 && pc.Flox == nil {
			continue
		}
		pc.KeysAdded, pc.KeysRemoved = nonNil(pc.KeysAdded), nonNil(pc.KeysRemoved)
		pc.RecipientsAdded, pc.RecipientsRemoved = nonNil(pc.RecipientsAdded), nonNil(pc.RecipientsRemoved)
		c.plan.Publishers = append(c.plan.Publishers, pc)

		subject := "publisher." + label
		for _, k := range pc.KeysRemoved {
			if hk := c.head.Key(k); hk != nil && hk.State == policy.Active {
				c.note(Danger, "publisher_access_revoked", subject,
					"publisher %s no longer signs with key.%s, but had its private key and may have kept it. Rotate the key (keyform rotate %s), then retire the old one.", label, k, k)
			}
		}
		for _, k := range pc.KeysAdded {
			c.note(Info, "publisher_access_granted", subject,
				"publisher %s receives the private key of key.%s: reseal it (keyform reseal %s) so they can unseal it.", label, k, k)
		}
		if len(pc.RecipientsRemoved) > 0 && h != nil && len(hKeys) > 0 {
			c.note(Warning, "publisher_recipient_removed", subject,
				"publisher %s drops a recipient key (a lost or replaced machine?). Whoever holds it could decrypt the sealed keys it was given; if it was lost, rotate %s.", label, joinLabels(hKeys))
		}
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func joinLabels(labels []string) string {
	out := ""
	for i, l := range labels {
		if i > 0 {
			out += ", "
		}
		out += "key." + l
	}
	return out
}
