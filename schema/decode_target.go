package schema

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/keyform/keyform/policy"
)

var targetSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "description"}, {Name: "trust", Required: true}, {Name: "exclusive"}, {Name: "output"}, {Name: "path"},
}}

type targetDecl struct {
	block   *hcl.Block
	content *hcl.BodyContent
	t       *policy.Target
}

func (l *loader) decodeTarget(b *hcl.Block, byCatalog map[string][]*policy.Key, retired []*policy.Key) {
	kind := policy.Kind(b.Labels[0])
	if !kind.Valid() {
		r := b.LabelRanges[0]
		kinds := make([]string, len(policy.Kinds))
		for i, k := range policy.Kinds {
			kinds[i] = string(k)
		}
		detail := fmt.Sprintf("Target kind %q is not one keyform knows. Use one of %s.", kind, quoteList(kinds))
		if s := suggest(string(kind), kinds); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		l.errorf(&r, "Unknown target kind", "%s", detail)
		return
	}
	if !l.checkLabel(b, "target", 1, l.seenTargets, string(kind)+"."+b.Labels[1]) {
		return
	}
	content, diags := b.Body.Content(targetSchema)
	l.diags = append(l.diags, diags...)
	t := &policy.Target{Kind: kind, Label: b.Labels[1], Pos: pos(b.DefRange)}
	l.targets[t.ID()] = &targetDecl{block: b, content: content, t: t}

	if attr := content.Attributes["exclusive"]; attr != nil {
		if v, ok := l.evalAttr(attr, cty.Bool); ok {
			t.Exclusive = v.True()
			if t.Exclusive && kind != policy.NixOS && kind != policy.Darwin {
				l.errorf(attr.Range.Ptr(), "exclusive not supported here", "exclusive only applies to nixos and darwin targets, which can replace the system key list with lib.mkForce. A %s target always adds to the existing keys; remove exclusive.", kind)
			}
		}
	}
	if attr := content.Attributes["output"]; attr != nil {
		var ok bool
		v := l.stringAttr(content, "output", &ok)
		if !ok {
			// evalAttr said why.
		} else if err := checkRelPath(v); err != nil {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid output", "%s. output is a file path relative to the output directory, for example \"hosts/%s.nix\".", err, t.Label)
		} else {
			t.Output = filepath.Clean(v)
		}
	}
	if attr := content.Attributes["path"]; attr != nil {
		var ok bool
		v := l.stringAttr(content, "path", &ok)
		switch {
		case !ok:
			// evalAttr said why.
		case kind != policy.NixConf:
			l.errorf(attr.Range.Ptr(), "path not supported here", "path names the nix.conf file that keyform apply patches, so it only applies to nixconf targets. %s targets are applied by importing the rendered module; remove path.", kind)
		case !filepath.IsAbs(v):
			l.errorf(attr.Expr.Range().Ptr(), "Relative path", "path %q must be absolute, for example \"/etc/nix/nix.conf\".", v)
		case checkPath(v) != nil:
			l.errorf(attr.Expr.Range().Ptr(), "Invalid path", "%s.", checkPath(v))
		default:
			t.Path = filepath.Clean(v)
		}
	} else if kind == policy.NixConf {
		t.Path = "/etc/nix/nix.conf"
	}

	attr := content.Attributes["trust"]
	if attr == nil {
		return // Content already reported the missing attribute.
	}
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		l.errorf(attr.Expr.Range().Ptr(), "trust is not a list", "trust takes a list in brackets, for example trust = [catalog.NAME, key.NAME], even for a single entry.")
		return
	}
	if len(exprs) == 0 {
		l.errorf(attr.Expr.Range().Ptr(), "Target trusts nothing", "Target %s has an empty trust list. List what it trusts, for example trust = [catalog.NAME].", t.ID())
		return
	}
	seenSub := map[string]bool{}
	seenRef := map[policy.Ref]bool{}
	for _, e := range exprs {
		ref, ok := l.refExpr(e, "trust", "catalog", "key")
		if !ok {
			continue
		}
		if seenRef[ref] {
			l.warnf(e.Range().Ptr(), "Duplicate trust entry", "%s is listed twice in the trust list of %s; remove one.", ref, t.ID())
			continue
		}
		seenRef[ref] = true
		t.Trust = append(t.Trust, ref)
		switch ref.Type {
		case "catalog":
			// Duplicates go after sorting (sortKeys).
			t.Keys = append(t.Keys, byCatalog[ref.Label]...)
			if cd := l.catalogs[ref.Label]; cd != nil {
				for _, s := range cd.c.Substituters {
					if !seenSub[s] {
						seenSub[s] = true
						t.Substituters = append(t.Substituters, s)
					}
				}
			}
		case "key":
			k := l.keys[ref.Label].k
			if k.State == policy.Retired {
				l.errorf(e.Range().Ptr(), "Retired key trusted", "Key %q is retired, so no target may trust it, but %s lists it. Remove key.%s from trust.", k.Label, t.ID(), k.Label)
				continue
			}
			t.Keys = append(t.Keys, k)
		}
	}
	t.Keys = l.sortKeys(t.Keys)
	t.Retired = retired
	if len(t.Keys) == 0 && len(t.Trust) > 0 && !l.diags.HasErrors() {
		r := attr.Expr.Range()
		l.warnf(&r, "Target trusts no active key", "Everything %s trusts resolves to no active key, so the machines it covers trust none of the policy's caches.", t.ID())
	}
	l.policy.Targets = append(l.policy.Targets, t)
}

// sortKeys sorts ks as policy.SortKeys does, by the ranks load computed,
// and drops duplicates.
func (l *loader) sortKeys(ks []*policy.Key) []*policy.Key {
	type ranked struct {
		rank int
		k    *policy.Key
	}
	rs := make([]ranked, len(ks))
	for i, k := range ks {
		rs[i] = ranked{l.rank[k], k}
	}
	slices.SortFunc(rs, func(a, b ranked) int { return a.rank - b.rank })
	rs = slices.CompactFunc(rs, func(a, b ranked) bool { return a.rank == b.rank })
	ks = ks[:len(rs)]
	for i, r := range rs {
		ks[i] = r.k
	}
	return ks
}
