package schema

// The evaluation of attributes: the context in which references such as
// key.NAME resolve, and the checks that give unknown references a precise
// range and a suggestion.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/keyform/keyform/policy"
)

// buildContext makes the evaluation context in which references such as
// catalog.acme and key.acme_2026 resolve. Only labels and public facts go
// in: diagnostics may print referenced values.
func (l *loader) buildContext() {
	cats := map[string]cty.Value{}
	for label := range l.catalogs {
		cats[label] = refValue("catalog", label)
	}
	ks := map[string]cty.Value{}
	for label := range l.keys {
		ks[label] = refValue("key", label)
	}
	l.ctx = &hcl.EvalContext{Variables: map[string]cty.Value{
		"catalog": cty.ObjectVal(cats),
		"key":     cty.ObjectVal(ks),
	}}
}

func refValue(typ, label string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"type": cty.StringVal(typ), "label": cty.StringVal(label)})
}

// evalAttr evaluates an attribute in the reference context and converts it
// to want, reporting a diagnostic at the attribute when it cannot.
func (l *loader) evalAttr(attr *hcl.Attribute, want cty.Type) (cty.Value, bool) {
	if l.inSecret(attr.Expr.Range()) {
		return cty.NilVal, false
	}
	// Most attributes are plain "..." strings: take the literal instead of
	// walking, evaluating and converting it (a tenth of loading a large
	// policy). The literal is exactly what evaluation would return.
	if want == cty.String {
		if t, ok := attr.Expr.(*hclsyntax.TemplateExpr); ok && t.IsStringLiteral() {
			if v := t.Parts[0].(*hclsyntax.LiteralValueExpr).Val; v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
				return v, true
			}
		}
	}
	if !l.checkRefs(attr.Expr) {
		return cty.NilVal, false
	}
	v, diags := attr.Expr.Value(l.ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		l.errorf(attr.Expr.Range().Ptr(), "Invalid "+attr.Name, "%s must not be null; remove the attribute to use the default.", attr.Name)
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, want)
	if err != nil {
		l.errorf(attr.Expr.Range().Ptr(), "Invalid "+attr.Name, "%s must be a %s: %s.", attr.Name, want.FriendlyName(), err)
		return cty.NilVal, false
	}
	return cv, true
}

// stringAttr returns a string attribute's value, "" when absent or invalid.
func (l *loader) stringAttr(content *hcl.BodyContent, name string, ok *bool) string {
	attr := content.Attributes[name]
	if attr == nil {
		return ""
	}
	v, good := l.evalAttr(attr, cty.String)
	if ok != nil {
		*ok = good
	}
	if !good {
		return ""
	}
	return v.AsString()
}

// checkRefs reports unknown references in expr with a precise range and a
// suggestion, which HCL's own "Unsupported attribute" message lacks.
func (l *loader) checkRefs(expr hcl.Expression) bool {
	ok := true
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		var declared func(string) bool
		var labels func() []string
		switch root {
		case "catalog":
			declared = func(s string) bool { return l.catalogs[s] != nil }
			labels = func() []string { return mapKeys(l.catalogs) }
		case "key":
			declared = func(s string) bool { return l.keys[s] != nil }
			labels = func() []string { return mapKeys(l.keys) }
		default:
			l.errorf(tr.SourceRange().Ptr(), "Unknown reference", "There is no %q to refer to. References name a declared block: catalog.NAME or key.NAME.", root)
			ok = false
			continue
		}
		if len(tr) < 2 {
			l.errorf(tr.SourceRange().Ptr(), "Incomplete reference", "%s must be followed by the name of a %s, for example %s.NAME.", root, root, root)
			ok = false
			continue
		}
		step, isAttr := tr[1].(hcl.TraverseAttr)
		if !isAttr {
			l.errorf(tr.SourceRange().Ptr(), "Invalid reference", "Write references as %s.NAME.", root)
			ok = false
			continue
		}
		if !declared(step.Name) {
			detail := fmt.Sprintf("No %s named %q is declared.", root, step.Name)
			if s := suggest(step.Name, labels()); s != "" {
				detail += fmt.Sprintf(" Did you mean %s.%s?", root, s)
			} else {
				detail += fmt.Sprintf(" Declare it with a %s %q { ... } block, or fix the name.", root, step.Name)
			}
			l.errorf(tr.SourceRange().Ptr(), "Reference to undeclared "+root, "%s", detail)
			ok = false
		}
	}
	return ok
}

func mapKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func suggest(given string, names []string) string {
	for _, n := range names {
		if levenshtein.Distance(given, n, nil) < 3 {
			return n
		}
	}
	return ""
}

// refAttr evaluates an expression that must be a single reference of the
// given type ("catalog" or "key") and returns its label.
func (l *loader) refExpr(expr hcl.Expression, attrName string, types ...string) (policy.Ref, bool) {
	if !l.checkRefs(expr) {
		return policy.Ref{}, false
	}
	v, diags := expr.Value(l.ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return policy.Ref{}, false
	}
	want := strings.Join(types, " or ")
	example := types[0] + ".NAME"
	if v.Type() == cty.String {
		l.errorf(expr.Range().Ptr(), "Invalid reference", "%s takes references such as %s, not strings. Remove the quotes.", attrName, example)
		return policy.Ref{}, false
	}
	if !v.Type().IsObjectType() || !v.Type().HasAttribute("type") || !v.Type().HasAttribute("label") {
		l.errorf(expr.Range().Ptr(), "Invalid reference", "%s takes a reference to a %s, such as %s.", attrName, want, example)
		return policy.Ref{}, false
	}
	ref := policy.Ref{Type: v.GetAttr("type").AsString(), Label: v.GetAttr("label").AsString()}
	if !slices.Contains(types, ref.Type) {
		l.errorf(expr.Range().Ptr(), "Invalid reference", "%s takes a reference to a %s, not a %s.", attrName, want, ref.Type)
		return policy.Ref{}, false
	}
	return ref, true
}
