package schema

import (
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/keyform/keyform/policy"
)

var publisherSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "keys", Required: true}, {Name: "recipients"}, {Name: "flox"}, {Name: "private_key_path"}, {Name: "private_key_dir"},
}}

type publisherDecl struct {
	block   *hcl.Block
	content *hcl.BodyContent
	p       *policy.Publisher
	// recipientRanges[i] is where p.Recipients[i] is declared.
	recipientRanges []hcl.Range
}

func (l *loader) decodePublisher(b *hcl.Block) {
	if !l.checkLabel(b, "publisher", 0, l.seenPublishers, b.Labels[0]) {
		return
	}
	content, diags := b.Body.Content(publisherSchema)
	l.diags = append(l.diags, diags...)
	p := &policy.Publisher{Label: b.Labels[0], Pos: pos(b.DefRange)}
	d := &publisherDecl{block: b, content: content, p: p}
	l.publishers[p.Label] = d
	if attr := content.Attributes["keys"]; attr != nil {
		exprs, diags := hcl.ExprList(attr.Expr)
		if diags.HasErrors() {
			l.errorf(attr.Expr.Range().Ptr(), "keys is not a list", "keys takes a list in brackets, for example keys = [key.NAME].")
		}
		for _, e := range exprs {
			ref, ok := l.refExpr(e, "keys", "key")
			if !ok {
				continue
			}
			k := l.keys[ref.Label].k
			if k.State != policy.Active {
				l.errorf(e.Range().Ptr(), "Retired key published", "Key %q is retired; publisher %q must not sign with it. Remove key.%s from keys.", k.Label, p.Label, k.Label)
				continue
			}
			if p.DefaultKey == "" {
				p.DefaultKey = k.Label
			}
			if !slices.Contains(p.Keys, k.Label) {
				p.Keys = append(p.Keys, k.Label)
			}
		}
		slices.Sort(p.Keys)
		if len(exprs) == 0 && !diags.HasErrors() {
			l.errorf(attr.Expr.Range().Ptr(), "Publisher without keys", "Publisher %q lists no keys. List the keys it signs with, for example keys = [key.NAME].", p.Label)
		}
	}
	if attr := content.Attributes["recipients"]; attr != nil {
		l.decodeRecipients(d, attr)
	}
	if attr := content.Attributes["flox"]; attr != nil {
		if v, ok := l.evalAttr(attr, cty.Bool); ok {
			p.Flox = v.True()
		}
	}
	l.decodePublisherPaths(p, content)
	if attr := content.Attributes["flox"]; attr != nil && p.Flox {
		for _, label := range p.Keys {
			if k := l.keys[label].k; p.KeyPath(k) == "" {
				l.errorf(attr.Range.Ptr(), "Flox needs a private key path", "Publisher %q has flox = true, and Flox signs with a key file at an absolute path, but key %q has no private_key_path. Add private_key_path = \"/home/%s/.config/keyform/%s.key\" to the key, or private_key_dir = \"/home/%s/.config/keyform\" to the publisher.", p.Label, k.Label, p.Label, k.Name, p.Label)
			}
		}
	}
	l.policy.Publishers = append(l.policy.Publishers, p)
}

// decodePublisherPaths reads where the publisher keeps its keys
// (policy.Publisher.KeyPath): private_key_path names the file of a
// publisher's only key, private_key_dir a directory for all of them.
func (l *loader) decodePublisherPaths(p *policy.Publisher, content *hcl.BodyContent) {
	file, dir := content.Attributes["private_key_path"], content.Attributes["private_key_dir"]
	if file != nil {
		v := l.stringAttr(content, "private_key_path", nil)
		if v != "" && l.checkPrivatePath(file, v) {
			p.PrivateKeyPath = filepath.Clean(v)
		}
		if len(p.Keys) > 1 {
			l.errorf(file.Expr.Range().Ptr(), "private_key_path with several keys", "Publisher %q signs with %d keys, but its private_key_path names one file, and each key needs its own. Replace it with private_key_dir = \"%s\": each key is then kept there as its Nix key name with \".key\".", p.Label, len(p.Keys), filepath.Dir(v))
		}
	}
	if dir != nil {
		v := l.stringAttr(content, "private_key_dir", nil)
		if v != "" && l.checkPrivatePath(dir, v) {
			p.PrivateKeyDir = filepath.Clean(v)
		}
		if file != nil {
			l.errorf(dir.Range.Ptr(), "Conflicting private key locations", "Publisher %q sets both private_key_path (at %s) and private_key_dir. Keep private_key_dir, which holds each key as its Nix key name with \".key\", or private_key_path for a publisher of one key.", p.Label, rangeLoc(file.Range))
		}
	}
}

// decodeRecipients checks each recipient's text and then, through
// Options.CheckRecipient, its type: keyform passes the parser seal uses, so
// a policy that validates can always be sealed. Each diagnostic points at
// its list element.
func (l *loader) decodeRecipients(d *publisherDecl, attr *hcl.Attribute) {
	p := d.p
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		l.errorf(attr.Expr.Range().Ptr(), "recipients is not a list", "recipients takes a list of public keys in brackets, for example recipients = [\"age1...\", \"ssh-ed25519 AAAA... %s@laptop\"].", p.Label)
		return
	}
	if len(exprs) == 0 {
		l.warnf(attr.Expr.Range().Ptr(), "Publisher without recipients", "Publisher %q has an empty recipients list, so keyform seal cannot give it its keys. Add its age or SSH public key, or remove recipients if it gets its keys another way.", p.Label)
		return
	}
	seen := map[string]hcl.Range{}
	for _, e := range exprs {
		r := e.Range()
		if l.inSecret(r) || !l.checkRefs(e) {
			continue
		}
		v, diags := e.Value(l.ctx)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		if v.IsNull() || v.Type() != cty.String {
			l.errorf(&r, "Invalid recipient", "Each recipient is a quoted public key string, such as \"age1...\" or \"ssh-ed25519 AAAA... %s@laptop\".", p.Label)
			continue
		}
		s := v.AsString()
		if policy.RecipientLooksSecret(s) {
			l.maskValue(r)
		}
		err := policy.CheckRecipientText(s)
		if err == nil && l.opts.CheckRecipient != nil {
			err = l.opts.CheckRecipient(s)
		}
		if err != nil {
			l.errorf(&r, "Invalid recipient", "Publisher %q: %s.", p.Label, err)
			continue
		}
		c := policy.CanonicalRecipient(s)
		if prev, dup := seen[c]; dup {
			l.warnf(&r, "Duplicate recipient", "Publisher %q lists this public key twice (first at %s); remove one.", p.Label, rangeLoc(prev))
			continue
		}
		seen[c] = r
		p.Recipients = append(p.Recipients, s)
		d.recipientRanges = append(d.recipientRanges, r)
	}
}

// checkRecipientMix refuses keys sealed to both post-quantum and classic
// recipients: age will not mix them, since the classic ones would undo the
// post-quantum protection, so seal would fail later.
func (l *loader) checkRecipientMix() {
	for _, k := range l.policy.Keys {
		var pq, classic *hcl.Range
		var pqPub, classicPub string
		for _, label := range mapKeys(l.publishers) {
			d := l.publishers[label]
			if !slices.Contains(d.p.Keys, k.Label) {
				continue
			}
			for i, r := range d.p.Recipients {
				rng := d.recipientRanges[i]
				if policy.IsPostQuantumRecipient(r) {
					if pq == nil {
						pq, pqPub = &rng, label
					}
				} else if classic == nil {
					classic, classicPub = &rng, label
				}
			}
		}
		if pq != nil && classic != nil {
			l.errorf(pq, "Post-quantum and classic recipients mixed", "Key %q would be sealed to this post-quantum recipient (publisher %q) and to classic ones such as the one at %s (publisher %q). age refuses to mix them, because the classic recipients would undo the post-quantum protection. Give every publisher of %q post-quantum keys (age-keygen -pq), or none.", k.Label, pqPub, rangeLoc(*classic), classicPub, k.Label)
		}
	}
}
