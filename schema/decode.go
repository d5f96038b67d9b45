package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/seal"
)

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "keyform"},
		{Type: "catalog", LabelNames: []string{"name"}},
		{Type: "key", LabelNames: []string{"name"}},
		{Type: "target", LabelNames: []string{"kind", "name"}},
		{Type: "publisher", LabelNames: []string{"name"}},
	},
}

var settingsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "output_dir"}, {Name: "expiry_warning_days"}, {Name: "sealed_dir"},
}}

var catalogSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "description"}, {Name: "substituter"},
}}

var keySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "description"}, {Name: "name"}, {Name: "catalog"}, {Name: "public_key"}, {Name: "public_key_file"},
	{Name: "private_key_path"}, {Name: "state"}, {Name: "expires"},
}}

var targetSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "description"}, {Name: "trust", Required: true}, {Name: "exclusive"}, {Name: "output"}, {Name: "path"},
}}

var publisherSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "keys", Required: true}, {Name: "recipients"}, {Name: "flox"}, {Name: "private_key_path"},
}}

// identRe is what a label must look like to be usable in a reference such as
// key.LABEL (HCL identifier syntax).
var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

type loader struct {
	fsys  fs.FS
	dir   string
	opts  Options
	files []*hcl.File
	// fileByName maps diagnostic file names to parsed files.
	fileByName map[string]*hcl.File
	diags      hcl.Diagnostics

	policy *policy.Policy
	ctx    *hcl.EvalContext

	catalogs map[string]*catalogDecl
	keys     map[string]*keyDecl
	keyNames map[string]*keyDecl
	// fingerprints maps public key fingerprints to the key that has it.
	fingerprints map[string]*policy.Key
	// rank is each key's position in policy.SortKeys order.
	rank       map[*policy.Key]int
	targets    map[string]*targetDecl
	publishers map[string]*publisherDecl

	// prefetched holds public key files read ahead of decoding (prefetch).
	prefetched map[string]readResult

	// seen* map declared labels to their ranges for duplicate reports.
	seenCatalogs, seenKeys, seenTargets, seenPublishers map[string]hcl.Range
}

type catalogDecl struct {
	block *hcl.Block
	c     *policy.Catalog
}

type keyDecl struct {
	block   *hcl.Block
	content *hcl.BodyContent
	k       *policy.Key
}

type targetDecl struct {
	block   *hcl.Block
	content *hcl.BodyContent
	t       *policy.Target
}

type publisherDecl struct {
	block   *hcl.Block
	content *hcl.BodyContent
	p       *policy.Publisher
	// recipientRanges[i] is where p.Recipients[i] is declared.
	recipientRanges []hcl.Range
}

func (l *loader) errorf(subject *hcl.Range, summary, detail string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: subject})
}

func (l *loader) warnf(subject *hcl.Range, summary, detail string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: subject})
}

func pos(r hcl.Range) policy.Pos {
	return policy.Pos{File: r.Filename, Line: r.Start.Line, Column: r.Start.Column}
}

func (l *loader) load() {
	l.policy = &policy.Policy{Dir: l.dir, Settings: policy.DefaultSettings}
	l.catalogs = map[string]*catalogDecl{}
	l.keys = map[string]*keyDecl{}
	l.keyNames = map[string]*keyDecl{}
	l.fingerprints = map[string]*policy.Key{}
	l.targets = map[string]*targetDecl{}
	l.publishers = map[string]*publisherDecl{}
	l.seenCatalogs = map[string]hcl.Range{}
	l.seenKeys = map[string]hcl.Range{}
	l.seenTargets = map[string]hcl.Range{}
	l.seenPublishers = map[string]hcl.Range{}

	var settings *hcl.Block
	var keyBlocks, targetBlocks, publisherBlocks []*hcl.Block
	for _, f := range l.files {
		content, diags := f.Body.Content(rootSchema)
		l.diags = append(l.diags, diags...)
		for _, b := range content.Blocks {
			switch b.Type {
			case "keyform":
				if settings != nil {
					l.errorf(&b.DefRange, "Duplicate keyform block", "A keyform block was already declared at %s. Merge the two into one.", rangeLoc(settings.DefRange))
					continue
				}
				settings = b
			case "catalog":
				l.declareCatalog(b)
			case "key":
				keyBlocks = append(keyBlocks, b)
			case "target":
				targetBlocks = append(targetBlocks, b)
			case "publisher":
				publisherBlocks = append(publisherBlocks, b)
			}
		}
	}
	if settings != nil {
		l.decodeSettings(settings)
	}
	// Keys are declared before any is decoded so that the evaluation
	// context knows every label.
	for _, b := range keyBlocks {
		l.declareKey(b)
	}
	l.buildContext()
	var pubFiles []string
	for _, d := range l.keys {
		if attr := d.content.Attributes["public_key_file"]; attr != nil {
			if t, ok := attr.Expr.(*hclsyntax.TemplateExpr); ok && t.IsStringLiteral() {
				if v := t.Parts[0].(*hclsyntax.LiteralValueExpr).Val; v.Type() == cty.String && checkRelPath(v.AsString()) == nil {
					pubFiles = append(pubFiles, v.AsString())
				}
			}
		}
	}
	l.prefetch(pubFiles)
	for _, b := range keyBlocks {
		if d := l.keys[b.Labels[0]]; d != nil && d.block == b {
			l.decodeKey(d)
		}
	}
	// Every target lists its keys in policy.SortKeys order. Sorting all
	// keys once and giving each its rank lets a target sort by integer
	// rank instead of comparing catalog and name strings, which for large
	// policies was a third of loading.
	l.rank = make(map[*policy.Key]int, len(l.policy.Keys))
	sorted := slices.Clone(l.policy.Keys)
	policy.SortKeys(sorted)
	var retired []*policy.Key
	for i, k := range sorted {
		l.rank[k] = i
		if k.State == policy.Retired {
			retired = append(retired, k)
		}
	}
	byCatalog := l.activeKeysByCatalog()
	for _, b := range targetBlocks {
		l.decodeTarget(b, byCatalog, retired)
	}
	for _, b := range publisherBlocks {
		l.decodePublisher(b)
	}
	l.checkRecipientMix()
	if !l.diags.HasErrors() {
		// Only worth saying once the policy is otherwise right.
		l.checkCatalogsHaveKeys(byCatalog)
	}

	slices.SortFunc(l.policy.Catalogs, func(a, b *policy.Catalog) int { return strings.Compare(a.Label, b.Label) })
	slices.SortFunc(l.policy.Keys, func(a, b *policy.Key) int { return strings.Compare(a.Label, b.Label) })
	slices.SortFunc(l.policy.Targets, func(a, b *policy.Target) int {
		if c := strings.Compare(kindOrder(a.Kind), kindOrder(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.Label, b.Label)
	})
	slices.SortFunc(l.policy.Publishers, func(a, b *policy.Publisher) int { return strings.Compare(a.Label, b.Label) })
}

func kindOrder(k policy.Kind) string {
	return fmt.Sprintf("%d", slices.Index(policy.Kinds, k))
}

// checkLabel makes sure a block label can be referenced and is not a
// duplicate; it reports whether the block should be decoded further.
func (l *loader) checkLabel(b *hcl.Block, what string, labelIdx int, seen map[string]hcl.Range, key string) bool {
	label := b.Labels[labelIdx]
	r := b.LabelRanges[labelIdx]
	if !identRe.MatchString(label) {
		l.errorf(&r, "Invalid "+what+" label", "The %s label %q cannot be used in references. Use letters, digits, underscores and dashes, starting with a letter or underscore, for example %q.", what, label, suggestIdent(label))
		return false
	}
	if prev, ok := seen[key]; ok {
		l.errorf(&r, "Duplicate "+what+" "+quote(key), "A %s named %q was already declared at %s. Rename or remove one of them.", what, key, rangeLoc(prev))
		return false
	}
	seen[key] = r
	return true
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func rangeLoc(r hcl.Range) string {
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}

func suggestIdent(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
			b.WriteRune(r)
		case (r >= '0' && r <= '9') || r == '-':
			if i == 0 {
				b.WriteRune('_')
			}
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	if b.Len() == 0 {
		return "name"
	}
	return b.String()
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
		u := l.stringAttr(content, "substituter", nil)
		if err := checkURL(u); err != nil {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid substituter", "%s. Give the cache URL exactly as nix.conf's substituters setting takes it, for example \"https://cache.example.org\".", err)
		} else if u != "" {
			c.Substituters = []string{u}
		}
	}
	l.catalogs[c.Label] = &catalogDecl{block: b, c: c}
	l.policy.Catalogs = append(l.policy.Catalogs, c)
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

func (l *loader) decodeSettings(b *hcl.Block) {
	content, diags := b.Body.Content(settingsSchema)
	l.diags = append(l.diags, diags...)
	s := &l.policy.Settings
	if attr := content.Attributes["output_dir"]; attr != nil {
		v := l.stringAttr(content, "output_dir", nil)
		if err := checkRelPath(v); err != nil {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid output_dir", "%s. output_dir is a directory relative to the policy directory, such as \"generated\".", err)
		} else {
			s.OutputDir = filepath.Clean(v)
		}
	}
	if attr := content.Attributes["sealed_dir"]; attr != nil {
		v := l.stringAttr(content, "sealed_dir", nil)
		if err := checkRelPath(v); err != nil {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid sealed_dir", "%s. sealed_dir is a directory relative to the policy directory, such as \"sealed\".", err)
		} else {
			s.SealedDir = filepath.Clean(v)
		}
	}
	if attr := content.Attributes["expiry_warning_days"]; attr != nil {
		v, ok := l.evalAttr(attr, cty.Number)
		if ok {
			n, acc := v.AsBigFloat().Int64()
			if acc != 0 || n < 0 || n > 3650 {
				l.errorf(attr.Expr.Range().Ptr(), "Invalid expiry_warning_days", "expiry_warning_days must be a whole number of days between 0 and 3650.")
			} else {
				s.ExpiryWarningDays = int(n)
			}
		}
	}
}

// evalAttr evaluates an attribute in the reference context and converts it
// to want, reporting a diagnostic at the attribute when it cannot.
func (l *loader) evalAttr(attr *hcl.Attribute, want cty.Type) (cty.Value, bool) {
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
		l.errorf(r, "Relative private_key_path", "private_key_path %q is relative. A private key path must be absolute so that every tool (nix, flox, keyform) reads the same file wherever it runs, for example \"/var/lib/keyform/%s\".", p, filepath.Base(p))
		return false
	}
	if err := checkNoHostile(p); err != nil {
		l.errorf(r, "Invalid private_key_path", "%s.", err)
		return false
	}
	clean := filepath.Clean(p)
	for _, root := range []struct{ dir, what string }{{l.opts.WorkTree, "git work tree"}, {l.opts.AbsDir, "policy directory"}} {
		if root.dir == "" {
			continue
		}
		if rel, err := filepath.Rel(root.dir, clean); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			l.errorf(r, "Private key inside the repository", "private_key_path %q is inside the %s %s, where it could be committed. Keep private keys outside the repository, for example under /var/lib/keyform/ or ~/.config/keyform/.", p, root.what, root.dir)
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
	if k.State == policy.Retired || l.opts.SkipExpiry {
		return
	}
	today := l.opts.Now.UTC().Truncate(24 * time.Hour)
	days := int(t.Sub(today).Hours() / 24)
	switch {
	case days < 0:
		l.errorf(attr.Expr.Range().Ptr(), "Key expired", "Key %q expired on %s. Rotate it (keyform rotate %s) and retire it (state = \"retired\"), or extend expires if that is the policy.", k.Label, s, k.Label)
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
		if pk, err := keys.ParsePublicKey(text); err != nil && errors.Is(err, keys.ErrSecretKeyGiven) || pk == nil && looksSecret(text) {
			l.redact(*subject)
		}
	} else {
		rel := l.stringAttr(d.content, "public_key_file", nil)
		subject = file.Expr.Range().Ptr()
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
			l.errorf(subject, "Cannot read public key file", "%s.", err)
			return
		}
		text = trimOneNewline(b)
		where = "the file " + rel
	}
	pk, err := keys.ParsePublicKey(text)
	switch {
	case err != nil && errors.Is(err, keys.ErrSecretKeyGiven):
		l.errorf(subject, "Secret key where a public key belongs", "%s holds a secret (private) key, not a public key. Anyone who can read it can sign as %q: remove it, rotate the key, and put only the public key here (keyform pubkey < SECRETFILE prints it).", capitalize(where), k.Label)
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
		v := l.stringAttr(content, "output", nil)
		if err := checkRelPath(v); err != nil {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid output", "%s. output is a file path relative to the output directory, for example \"hosts/%s.nix\".", err, t.Label)
		} else {
			t.Output = filepath.Clean(v)
		}
	}
	if attr := content.Attributes["path"]; attr != nil {
		v := l.stringAttr(content, "path", nil)
		switch {
		case kind != policy.NixConf:
			l.errorf(attr.Range.Ptr(), "path not supported here", "path names the nix.conf file that keyform apply patches, so it only applies to nixconf targets. %s targets are applied by importing the rendered module; remove path.", kind)
		case !filepath.IsAbs(v):
			l.errorf(attr.Expr.Range().Ptr(), "Relative path", "path %q must be absolute, for example \"/etc/nix/nix.conf\".", v)
		case checkNoHostile(v) != nil:
			l.errorf(attr.Expr.Range().Ptr(), "Invalid path", "%s.", checkNoHostile(v))
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
	if attr := content.Attributes["private_key_path"]; attr != nil {
		v := l.stringAttr(content, "private_key_path", nil)
		if v != "" && l.checkPrivatePath(attr, v) {
			p.PrivateKeyPath = filepath.Clean(v)
		}
		if len(p.Keys) > 1 {
			l.errorf(attr.Expr.Range().Ptr(), "private_key_path with several keys", "Publisher %q signs with %d keys, but its private_key_path names one file, and each key needs its own. Remove private_key_path here and set it on each key instead.", p.Label, len(p.Keys))
		}
	}
	if attr := content.Attributes["flox"]; attr != nil && p.Flox {
		for _, label := range p.Keys {
			if k := l.keys[label].k; p.KeyPath(k) == "" {
				l.errorf(attr.Range.Ptr(), "Flox needs a private key path", "Publisher %q has flox = true, and Flox signs with a key file at an absolute path, but key %q has no private_key_path. Add private_key_path = \"/home/%s/.config/keyform/%s.key\" to the key or to the publisher.", p.Label, k.Label, p.Label, k.Name)
			}
		}
	}
	l.policy.Publishers = append(l.policy.Publishers, p)
}

// decodeRecipients checks each recipient with the same parser seal uses,
// so a policy that validates can always be sealed; each diagnostic points
// at its list element.
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
		if !l.checkRefs(e) {
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
		if seal.LooksSecret(s) {
			l.redact(r)
		}
		if _, err := seal.ParseRecipient(s); err != nil {
			l.errorf(&r, "Invalid recipient", "Publisher %q: %s.", p.Label, err)
			continue
		}
		c := seal.Canonical(s)
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
				if seal.IsPostQuantum(r) {
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

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func exampleName(name string) string {
	if keys.ValidateName(name) != nil {
		return "NAME"
	}
	return name
}

// looksSecret reports whether text decodes to the 64 bytes of a secret key
// even though it does not parse (for example with a bad name), so it is
// redacted all the same.
func looksSecret(text string) bool {
	_, b64, ok := strings.Cut(text, ":")
	return ok && len(b64) >= 86
}

// redact overwrites the key material inside a string expression in the
// parsed source, so diagnostic snippets never print a pasted secret key.
// The bytes are replaced one for one, keeping every range valid.
func (l *loader) redact(r hcl.Range) {
	f := l.fileByName[r.Filename]
	if f == nil || r.End.Byte > len(f.Bytes) {
		return
	}
	src := f.Bytes[r.Start.Byte:r.End.Byte]
	for i := bytes.IndexByte(src, ':') + 1; i < len(src); i++ {
		if src[i] != '"' {
			src[i] = '*'
		}
	}
}
