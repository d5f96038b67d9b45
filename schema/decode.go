package schema

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/keyform/keyform/policy"
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

	// secretRanges are where the secrets masked before parsing were; a
	// value overlapping one was reported already (inSecret).
	secretRanges []hcl.Range

	// prefetched holds public key files read ahead of decoding (prefetch).
	prefetched map[string]readResult

	// seen* map declared labels to their ranges for duplicate reports.
	seenCatalogs, seenKeys, seenTargets, seenPublishers map[string]hcl.Range
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

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
