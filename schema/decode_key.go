package schema

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/keyform/keyform/internal/redact"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

var keySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "description"}, {Name: "name"}, {Name: "catalog"}, {Name: "public_key"}, {Name: "public_key_file"},
	{Name: "private_key_path"}, {Name: "state"}, {Name: "expires"},
}}

type keyDecl struct {
	block   *hcl.Block
	content *hcl.BodyContent
	k       *policy.Key
}

func (l *loader) declareKey(b *hcl.Block) {
	if !l.checkLabel(b, "key", 0, l.seenKeys, b.Labels[0]) {
		return
	}
	content, diags := b.Body.Content(keySchema)
	l.diags = append(l.diags, diags...)
	k := &policy.Key{Label: b.Labels[0], Name: b.Labels[0], State: policy.Active, Pos: pos(b.DefRange)}
	k.SealedFile = filepath.Join(l.policy.Settings.SealedDir, k.Label+".age")
	l.keys[k.Label] = &keyDecl{block: b, content: content, k: k}
	l.policy.Keys = append(l.policy.Keys, k)
}

func (l *loader) decodeKey(d *keyDecl) {
	content, k := d.content, d.k
	if attr := content.Attributes["name"]; attr != nil {
		var ok bool
		name := l.stringAttr(content, "name", &ok)
		if ok {
			if err := keys.ValidateName(name); err != nil {
				l.errorf(attr.Expr.Range().Ptr(), "Invalid key name", "%s.", err)
			}
			k.Name = name
		}
	} else if err := keys.ValidateName(k.Name); err != nil {
		r := d.block.LabelRanges[0]
		l.errorf(&r, "Invalid key name", "The key name defaults to the label, and %s. Set name = \"...\" explicitly.", err)
	}
	if prev, dup := l.keyNames[k.Name]; dup {
		r := d.block.LabelRanges[0]
		if attr := content.Attributes["name"]; attr != nil {
			r = attr.Expr.Range()
		}
		l.errorf(&r, "Duplicate Nix key name", "Keys %q and %q both use the Nix key name %q (the other at %s). Nix silently ignores the second of two trusted keys with one name, so every key needs its own name; a rotation uses a new one such as %q.", prev.k.Label, k.Label, k.Name, prev.k.Pos, nextName(k.Name))
	} else {
		l.keyNames[k.Name] = d
	}
	if attr := content.Attributes["catalog"]; attr != nil {
		if ref, ok := l.refExpr(attr.Expr, "catalog", "catalog"); ok {
			k.Catalog = ref.Label
		}
	}
	if attr := content.Attributes["state"]; attr != nil {
		var ok bool
		st := l.stringAttr(content, "state", &ok)
		switch policy.KeyState(st) {
		case policy.Active, policy.Retired:
			k.State = policy.KeyState(st)
		default:
			if ok {
				l.errorf(attr.Expr.Range().Ptr(), "Invalid key state", "state is %q; it must be \"active\" or \"retired\".", st)
			}
		}
	}
	if attr := content.Attributes["private_key_path"]; attr != nil {
		p := l.stringAttr(content, "private_key_path", nil)
		if p != "" && l.checkPrivatePath(attr, p) {
			k.PrivateKeyPath = filepath.Clean(p)
		}
	}
	l.decodeExpires(d)
	l.decodePublicKey(d)
}

// nextName suggests a successor Nix key name for a rotation: a trailing
// "-N" is incremented, otherwise "-2" is appended.
func nextName(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i >= 0 {
		var n int
		if _, err := fmt.Sscanf(name[i+1:], "%d", &n); err == nil && fmt.Sprint(n) == name[i+1:] {
			return fmt.Sprintf("%s-%d", name[:i], n+1)
		}
	}
	return name + "-2"
}

// checkPrivatePath enforces that private keys live at absolute paths
// outside the repository, so they can never be committed by accident.
func (l *loader) checkPrivatePath(attr *hcl.Attribute, p string) bool {
	r := attr.Expr.Range().Ptr()
	if !filepath.IsAbs(p) {
		l.errorf(r, "Relative "+attr.Name, "%s %q is relative. A private key path must be absolute so that every tool (nix, flox, keyform) reads the same file wherever it runs, for example \"/var/lib/keyform/%s\".", attr.Name, p, filepath.Base(p))
		return false
	}
	if err := checkNoHostile(p); err != nil {
		l.errorf(r, "Invalid "+attr.Name, "%s.", err)
		return false
	}
	clean := filepath.Clean(p)
	for _, root := range []struct{ dir, what string }{{l.opts.WorkTree, "git work tree"}, {l.opts.AbsDir, "policy directory"}} {
		if root.dir == "" {
			continue
		}
		if rel, err := filepath.Rel(root.dir, clean); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			l.errorf(r, "Private key inside the repository", "%s %q is inside the %s %s, where it could be committed. Keep private keys outside the repository, for example under /var/lib/keyform/ or ~/.config/keyform/.", attr.Name, p, root.what, root.dir)
			return false
		}
	}
	return true
}

func (l *loader) decodeExpires(d *keyDecl) {
	attr := d.content.Attributes["expires"]
	if attr == nil {
		return
	}
	var ok bool
	s := l.stringAttr(d.content, "expires", &ok)
	if !ok {
		return
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		l.errorf(attr.Expr.Range().Ptr(), "Invalid expiry date", "expires is %q; write the date as YYYY-MM-DD, for example \"2027-06-30\".", s)
		return
	}
	k := d.k
	k.Expires = t
	if k.State == policy.Retired || l.opts.Expiry == ExpiryIgnored {
		return
	}
	days := k.DaysLeft(l.opts.Now)
	switch {
	case days < 0 && l.opts.Expiry == ExpiredIsWarning:
		l.warnf(attr.Expr.Range().Ptr(), "Key expired", "%s Machines keep trusting it; keyform validate, check and plan fail until it is rotated.", k.ExpiredNote())
	case days < 0:
		l.errorf(attr.Expr.Range().Ptr(), "Key expired", "%s Machines keep trusting it; keyform validate, check and plan fail until it is rotated, so that CI forces the rotation.", k.ExpiredNote())
	case days <= l.policy.Settings.ExpiryWarningDays:
		when := fmt.Sprintf("in %d days", days)
		switch days {
		case 0:
			when = "today"
		case 1:
			when = "tomorrow"
		}
		l.warnf(attr.Expr.Range().Ptr(), "Key expires soon", "Key %q expires on %s, %s. Start a rotation now: keyform rotate %s.", k.Label, s, when, k.Label)
	}
}

func (l *loader) decodePublicKey(d *keyDecl) {
	k := d.k
	inline := d.content.Attributes["public_key"]
	file := d.content.Attributes["public_key_file"]
	defRange := d.block.DefRange
	switch {
	case inline != nil && file != nil:
		l.errorf(inline.Range.Ptr(), "Conflicting public key sources", "Key %q sets both public_key and public_key_file (at %s). Keep exactly one of them.", k.Label, rangeLoc(file.Range))
		return
	case inline == nil && file == nil:
		l.errorf(&defRange, "Missing public key", "Key %q has neither public_key nor public_key_file. Add public_key_file = \"keys/%s.pub\" and run \"keyform keygen %s\", or paste the public key as public_key = \"NAME:BASE64\".", k.Label, k.Label, k.Label)
		return
	}
	var text string
	var subject *hcl.Range
	where := ""
	if inline != nil {
		var ok bool
		text = l.stringAttr(d.content, "public_key", &ok)
		if !ok {
			return
		}
		subject = inline.Expr.Range().Ptr()
		where = "the public_key attribute"
		if _, err := keys.ParsePublicKey(text); err != nil && redact.KeyMaterialChars(text) >= 16 {
			// Too short to be anything but a typo, it may show.
			l.maskValue(*subject)
		}
	} else {
		var ok bool
		rel := l.stringAttr(d.content, "public_key_file", &ok)
		subject = file.Expr.Range().Ptr()
		if !ok {
			return
		}
		if err := checkRelPath(rel); err != nil {
			l.errorf(subject, "Invalid public_key_file", "%s. public_key_file is relative to the policy directory, for example \"keys/%s.pub\".", err, k.Label)
			return
		}
		k.PublicKeyFile = filepath.Clean(rel)
		b, err := l.readFile(rel)
		if isNotExist(err) {
			if l.opts.AllowPending {
				return
			}
			l.errorf(subject, "Public key not generated", "The public key file %s does not exist. Run \"keyform keygen %s\" to generate the key pair, or copy the public key there.", rel, k.Label)
			return
		}
		if err != nil {
			diag := readError(rel, "public key file", err)
			diag.Subject = subject
			l.diags = append(l.diags, diag)
			return
		}
		// The file is never printed, but say where in it the secret is.
		if fs := redact.Find(b); len(fs) > 0 {
			l.secretError(subject, fs[0].Kind, fmt.Sprintf("Line %d of the file %s", fs[0].Line, rel), k.Label)
			return
		}
		text = trimOneNewline(b)
		where = "the file " + rel
	}
	if kind := redact.ClassifyKeyText(text); kind != 0 {
		l.secretError(subject, kind, capitalize(where), k.Label)
		return
	}
	pk, err := keys.ParsePublicKey(text)
	switch {
	case err != nil && errors.Is(err, keys.ErrSecretKeyGiven):
		l.secretError(subject, redact.SecretKey, capitalize(where), k.Label)
		return
	case err != nil:
		l.errorf(subject, "Invalid public key", "The public key in %s does not parse: %s. A Nix public key looks like \"%s:BASE64\" (44 base64 characters).", where, err, exampleName(k.Name))
		return
	case pk.Name != k.Name:
		l.errorf(subject, "Public key name mismatch", "The public key in %s is named %q, but key %q has name %q. Nix matches signatures by name, so they must agree: fix name, or use the right public key.", where, pk.Name, k.Label, k.Name)
		return
	}
	fp := pk.Fingerprint()
	if prev, dup := l.fingerprints[fp]; dup {
		l.errorf(subject, "Duplicate public key", "Keys %q and %q (at %s) have the same public key material under different names. This is almost always a copy-paste mistake: give each key its own key pair.", k.Label, prev.Label, prev.Pos)
		return
	}
	l.fingerprints[fp] = k
	k.PublicKey = pk.String()
	k.Fingerprint = fp
}

// secretError reports secret key material where a public key belongs.
func (l *loader) secretError(subject *hcl.Range, kind redact.Kind, where, label string) {
	summary := "Secret key where a public key belongs"
	if kind == redact.TruncatedSecretKey {
		summary = "Truncated secret key where a public key belongs"
	}
	l.errorf(subject, summary, "%s", strings.Replace(secretFix(kind, where), "keyform rotate KEY", "keyform rotate "+label, 1))
}

func exampleName(name string) string {
	if keys.ValidateName(name) != nil {
		return "NAME"
	}
	return name
}
