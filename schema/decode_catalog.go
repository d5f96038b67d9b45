package schema

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/keyform/keyform/policy"
)

var catalogSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "description"}, {Name: "substituter"},
}}

type catalogDecl struct {
	block *hcl.Block
	c     *policy.Catalog
}

func (l *loader) declareCatalog(b *hcl.Block) {
	if !l.checkLabel(b, "catalog", 0, l.seenCatalogs, b.Labels[0]) {
		return
	}
	content, diags := b.Body.Content(catalogSchema)
	l.diags = append(l.diags, diags...)
	c := &policy.Catalog{Label: b.Labels[0], Pos: pos(b.DefRange)}
	c.Description = l.stringAttr(content, "description", nil)
	if attr := content.Attributes["substituter"]; attr != nil {
		var ok bool
		u := l.stringAttr(content, "substituter", &ok)
		if !ok {
			// evalAttr said why.
		} else if err := checkURL(u); err == errCredentials {
			l.maskValue(attr.Expr.Range())
			l.errorf(attr.Expr.Range().Ptr(), "Credentials in a substituter URL", "%s.", err)
		} else if err != nil {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid substituter", "%s. Give the cache URL exactly as nix.conf's substituters setting takes it, for example \"https://cache.example.org\".", err)
		} else if u != "" {
			c.Substituters = []string{u}
		}
	}
	l.catalogs[c.Label] = &catalogDecl{block: b, c: c}
	l.policy.Catalogs = append(l.policy.Catalogs, c)
}

func (l *loader) activeKeysByCatalog() map[string][]*policy.Key {
	m := map[string][]*policy.Key{}
	for _, k := range l.policy.Keys {
		if k.Catalog != "" && k.State == policy.Active {
			m[k.Catalog] = append(m[k.Catalog], k)
		}
	}
	return m
}

func (l *loader) checkCatalogsHaveKeys(byCatalog map[string][]*policy.Key) {
	for _, label := range mapKeys(l.catalogs) {
		if len(byCatalog[label]) == 0 {
			d := l.catalogs[label]
			r := d.block.DefRange
			l.warnf(&r, "Catalog without active keys", "Catalog %q has no active key, so nothing from its caches is trusted. Add a key with catalog = catalog.%s.", label, label)
		}
	}
}
