package nixconf

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"unicode"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/gen"
	"github.com/keyform/keyform/render/nixexpr"
)

var snippetTmpl = template.Must(template.New("snippet").Funcs(nixexpr.Funcs).Parse(`{{.In.HeaderLine}}
#
# nix.conf lines for {{comment .Path}}. The extra- settings add to the
# keys and substituters already configured; keep them below any plain
# trusted-public-keys or substituters line, which would replace them.
# Restart the Nix daemon after changing the file.
#
{{- with .Keys}}
# Trusted keys:
{{- range .}}
#   {{comment .Name}}: {{.Comment}}
{{- end}}
{{- else}}
# This target trusts no active key.
{{- end}}
{{- with .Substituters}}
# Substituters:
{{- range .}}
#   {{comment .Value}}{{with .Comment}}: {{.}}{{end}}
{{- end}}
{{- end}}
{{- with .Retired}}
# Retired keys, which must no longer be trusted (remove them if the file
# lists them):
{{- range .}}
#   {{comment .Name}}: {{.Comment}}
{{- end}}
{{- end}}
{{- with .KeysLine}}
extra-trusted-public-keys = {{.}}
{{- end}}
{{- with .SubstitutersLine}}
extra-substituters = {{.}}
{{- end}}
`))

// Snippet returns the nix.conf lines for a nixconf target: comments naming
// every key and substituter, then one extra-trusted-public-keys line and,
// when the trusted catalogs declare substituters, one extra-substituters
// line. A target that trusts no active key gets no keys line.
func Snippet(in gen.Input) ([]byte, error) {
	t := in.Target
	if t.Kind != policy.NixConf {
		return nil, fmt.Errorf("nixconf: cannot render %s: kind %s is not nixconf", t.ID(), t.Kind)
	}
	keys, subs := in.Keys(), in.Substituters()
	keysLine, err := snippetValues(keys)
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
	var b bytes.Buffer
	err = snippetTmpl.Execute(&b, struct {
		In                          gen.Input
		Path                        string
		Keys, Substituters, Retired []gen.Entry
		KeysLine, SubstitutersLine  string
	}{in, path, keys, subs, in.Retired(), keysLine, subsLine})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t.ID(), err)
	}
	return b.Bytes(), nil
}

// snippetValues joins values into one nix.conf list value. nix.conf cannot
// quote, so a value that whitespace or "#" would cut short is refused.
func snippetValues(es []gen.Entry) (string, error) {
	vs := make([]string, len(es))
	for i, e := range es {
		if err := snippetCheckValue(e.Value); err != nil {
			return "", err
		}
		vs[i] = e.Value
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
