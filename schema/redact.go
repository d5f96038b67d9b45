package schema

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/keyform/keyform/internal/redact"
)

// Secrets never reach a diagnostic: every policy file is masked with
// internal/redact before HCL parses it (secretDiags), replacing the secret
// byte for byte so that every range stays valid, and each secret found is
// reported once, with where it is and what to do. Values that should be a
// public key but are not one are masked too (maskValue): a secret cut
// short or split in a way the scan cannot tell from other text is still no
// public key, and its snippet is of no use to anyone.

// secretDiags returns one error for each secret found (and masked) in
// the policy file f, named name, before it was parsed.
func secretDiags(f *hcl.File, name string, findings []redact.Finding) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var at cursor
	for _, fd := range findings {
		r := hcl.Range{Filename: name, Start: at.pos(f.Bytes, fd.Start), End: at.pos(f.Bytes, fd.End)}
		fix := secretFix(fd.Kind, fmt.Sprintf("Line %d of %s", fd.Line, name))
		if label := keyLabelAt(f, fd.Start); label != "" {
			fix = strings.Replace(fix, "keyform rotate KEY", "keyform rotate "+label, 1)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  secretSummary(fd.Kind),
			Detail:   fix,
			Subject:  &r,
		})
	}
	return diags
}

// keyLabelAt is the label of the key block holding offset, or "".
func keyLabelAt(f *hcl.File, offset int) string {
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return ""
	}
	for _, b := range body.Blocks {
		if b.Type == "key" && len(b.Labels) == 1 && b.Range().ContainsOffset(offset) {
			return b.Labels[0]
		}
	}
	return ""
}

func secretSummary(k redact.Kind) string {
	switch k {
	case redact.TruncatedSecretKey:
		return "Truncated secret key in policy file"
	case redact.AgeIdentity:
		return "Age secret key in policy file"
	case redact.PrivateKeyBlock:
		return "Private key in policy file"
	case redact.URLCredentials:
		return "Credentials in policy file"
	}
	return "Secret key in policy file"
}

// secretFix says what was found where (where starts the sentence, "Line 6
// of keyform.hcl") and how to fix it. It never quotes the secret.
func secretFix(k redact.Kind, where string) string {
	switch k {
	case redact.AgeIdentity, redact.PrivateKeyBlock:
		return fmt.Sprintf("%s holds %s, a private key, which keyform does not print. Whoever can read the policy (or its git history) can decrypt what is sealed to it: remove it, make a new identity (age-keygen, or ssh-keygen -t ed25519) and put only its public key in the publisher's recipients (age-keygen -y prints it), then run keyform reseal.", where, k)
	case redact.URLCredentials:
		return fmt.Sprintf("%s holds %s (user:password@ or a token before @), which keyform does not print; they would be written into every rendered file and plan. Remove them from the URL and give them to Nix in a netrc file instead: the netrc-file setting (default /etc/nix/netrc) with a line \"machine HOST login USER password PASSWORD\". If they were committed, change the password.", where, k)
	}
	what := "a Nix secret (private) key"
	if k == redact.TruncatedSecretKey {
		what = "part of a Nix secret key: more key material than a public key holds (its first 43 characters are the whole private seed)"
	}
	return fmt.Sprintf("%s holds %s, which keyform does not print. Anyone who can read it (or the git history, if it was committed) may sign as this key: remove it, rotate the key (keyform rotate KEY; the old one may be compromised), and put only the public key in the policy: keyform pubkey < SECRETFILE or nix key convert-secret-to-public < SECRETFILE prints it.", where, what)
}

// cursor turns byte offsets into hcl.Pos; offsets must not decrease, so
// that a file with many findings is walked once (findings are sorted, and
// each ends before the next starts).
type cursor struct{ p hcl.Pos }

// pos is the hcl.Pos of a byte offset (columns count bytes, which for the
// ASCII of key material is what HCL counts too).
func (c *cursor) pos(src []byte, off int) hcl.Pos {
	if c.p.Line == 0 {
		c.p = hcl.InitialPos
	}
	for ; c.p.Byte < off && c.p.Byte < len(src); c.p.Byte++ {
		if src[c.p.Byte] == '\n' {
			c.p.Line, c.p.Column = c.p.Line+1, 1
		} else {
			c.p.Column++
		}
	}
	return c.p
}

// maskValue masks whatever could be key material in the source of an
// expression (a public_key that does not parse, a recipient that is a
// private key), so its diagnostic snippet shows the attribute but not the
// value. The bytes are replaced one for one, keeping every range valid.
func (l *loader) maskValue(r hcl.Range) {
	f := l.fileByName[r.Filename]
	if f == nil || r.End.Byte > len(f.Bytes) || r.Start.Byte > r.End.Byte {
		return
	}
	redact.MaskValue(f.Bytes[r.Start.Byte:r.End.Byte])
}

// inSecret reports whether r overlaps a secret masked before parsing: its
// value is asterisks now, and the secret's own error says all there is.
func (l *loader) inSecret(r hcl.Range) bool {
	for _, s := range l.secretRanges {
		if s.Filename == r.Filename && s.Start.Byte < r.End.Byte && r.Start.Byte < s.End.Byte {
			return true
		}
	}
	return false
}
