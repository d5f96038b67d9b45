// Package homemanager renders the module for home_manager targets: a
// home-manager module that adds the target's keys and substituters to the
// user's nix.conf with nix.settings.extra-trusted-public-keys and
// extra-substituters.
//
// The extra- settings matter: a user-level trusted-public-keys would
// replace the system's list instead of adding to it.
package homemanager

import (
	"bytes"
	"fmt"
	"sync"
	"text/template"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/nixexpr"
	"github.com/keyform/keyform/render/renderer"
)

// tmpl is parsed on first use, so commands that render nothing do not
// pay for it at start-up.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("module").Funcs(nixexpr.Funcs).Parse(`{{.In.HeaderLine}}
#
# A home-manager module: add this file to imports in your home configuration.
# home-manager writes nix.settings to ~/.config/nix/nix.conf only when
# nix.package is set. The extra- settings add to the keys and substituters
# the system trusts instead of replacing them.
#
# The Nix daemon honours these settings only for users listed in its
# trusted-users setting; keyform cannot check that for you.
{ ... }:
{
  nix.settings.extra-trusted-public-keys =
{{- with .KeyLines}} [
{{.}}  ];
{{- else}} [ ];
{{- end}}
{{- with .Substituters}}
  nix.settings.extra-substituters = [
{{- range .}}
    {{nixstr .Value}}{{with .Comment}} # {{.}}{{end}}
{{- end}}
  ];
{{- end}}
}
`))
})

// Render returns the module for a home_manager target.
func Render(in renderer.Input) ([]byte, error) {
	t := in.Target
	if t.Kind != policy.HomeManager {
		return nil, fmt.Errorf("homemanager: cannot render %s: kind %s is not home_manager", t.ID(), t.Kind)
	}
	if t.Exclusive {
		// Validation rejects this; a user-level list cannot replace the
		// system's keys, so rendering it would promise what it cannot do.
		return nil, fmt.Errorf("render %s: exclusive is not supported for home_manager targets", t.ID())
	}
	keyLines, err := in.NixKeyLines()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t.ID(), err)
	}
	var b bytes.Buffer
	b.Grow(len(keyLines) + 2048)
	err = tmpl().Execute(&b, struct {
		In           renderer.Input
		KeyLines     string
		Substituters []renderer.Entry
	}{in, keyLines, in.Substituters()})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t.ID(), err)
	}
	return b.Bytes(), nil
}
