// Package nixconf renders a nixconf target's standalone nix.conf snippet
// (the extra-trusted-public-keys and extra-substituters lines to add, see
// Snippet). Parsing, evaluating and patching an existing nix.conf is the
// top-level package nixconf.
//
// nix.conf has no quoting or escapes: a value ends at whitespace and "#"
// starts a comment anywhere. Values that would break that are refused, never
// escaped; policy text in comments goes through nixexpr.Comment.
package nixconf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"text/template"
	"unicode"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/nixexpr"
	"github.com/keyform/keyform/render/renderer"
)

// snippetTmpl is parsed on first use, so commands that render nothing do not
// pay for it at start-up.
var snippetTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("snippet").Funcs(nixexpr.Funcs).Parse(`{{.In.HeaderLine}}
#
# nix.conf lines for {{comment .Path}}. The extra- settings add to the
# keys and substituters already configured; keep them below any plain
# trusted-public-keys or substituters line, which would replace them.
# Restart the Nix daemon after changing the file.
#
{{- with .KeyNames}}
# Trusted keys:{{.}}
{{- else}}
# This target trusts no active key.
{{- end}}
{{- with .Substituters}}
# Substituters:
{{- range .}}
#   {{comment .Value}}{{with .Comment}}: {{.}}{{end}}
{{- end}}
{{- end}}
{{- with .RetiredNames}}
# Retired keys, which must no longer be trusted (remove them if the file
# lists them):{{.}}
{{- end}}
{{- with .KeysLine}}
extra-trusted-public-keys = {{.}}
{{- end}}
{{- with .SubstitutersLine}}
extra-substituters = {{.}}
{{- end}}
`))
})

// Snippet returns the nix.conf lines for a nixconf target: comments naming
// every key and substituter, then one extra-trusted-public-keys line and,
// when the trusted catalogs declare substituters, one extra-substituters
// line. A target that trusts no active key gets no keys line.
func Snippet(in renderer.Input) ([]byte, error) {
	t := in.Target
	if t.Kind != policy.NixConf {
		return nil, fmt.Errorf("nixconf: cannot render %s: kind %s is not nixconf", t.ID(), t.Kind)
	}
	subs := in.Substituters()
	var keys []string
	for _, k := range in.SortedKeys() {
		keys = append(keys, k.PublicKey)
	}
	keysLine, err := snippetJoin(keys)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t.ID(), err)
	}
	subsLine, err := snippetValues(subs)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t.ID(), err)
	}
	path := t.Path
	if path == "" {
		path = "/etc/nix/nix.conf"
	}
	// Comment lines naming keys are built in Go, once per key for all
	// targets (renderer.Text): every retired key is listed in every nixconf
	// target.
	keyNames, retiredNames := in.KeyNameLines(), in.RetiredNameLines()
	var b bytes.Buffer
	b.Grow(len(keyNames) + len(retiredNames) + len(keysLine) + 2048)
	err = snippetTmpl().Execute(&b, struct {
		In                         renderer.Input
		Path                       string
		KeyNames, RetiredNames     string
		Substituters               []renderer.Entry
		KeysLine, SubstitutersLine string
	}{in, path, keyNames, retiredNames, subs, keysLine, subsLine})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t.ID(), err)
	}
	return b.Bytes(), nil
}

// snippetValues joins the entries' values into one nix.conf list value.
func snippetValues(es []renderer.Entry) (string, error) {
	vs := make([]string, len(es))
	for i, e := range es {
		vs[i] = e.Value
	}
	return snippetJoin(vs)
}

// snippetJoin joins values into one nix.conf list value. nix.conf cannot
// quote, so a value that whitespace or "#" would cut short is refused.
func snippetJoin(vs []string) (string, error) {
	for _, v := range vs {
		if err := snippetCheckValue(v); err != nil {
			return "", err
		}
	}
	return strings.Join(vs, " "), nil
}

func snippetCheckValue(v string) error {
	if v == "" {
		return fmt.Errorf("an empty value cannot be written to nix.conf")
	}
	for _, r := range v {
		if unicode.IsSpace(r) || r == '#' || !unicode.IsPrint(r) {
			return fmt.Errorf("%q cannot be written to nix.conf: it contains %q, and nix.conf has no quoting", v, r)
		}
	}
	return nil
}
