// Package nixos renders the module for nixos and darwin targets: a NixOS or
// nix-darwin module that sets nix.settings.trusted-public-keys (and
// substituters) to the keys the target trusts.
//
// NixOS sets cache.nixos.org's key at normal priority and merges module
// lists, so the rendered list adds to it. An exclusive target wraps the keys
// in lib.mkForce instead, so they replace every other definition, and forces
// nix.settings.extra-trusted-public-keys to the empty list, which NixOS and
// nix-darwin would otherwise write after it. Substituters are always added,
// never forced. render/modsys_test.go checks all of this with the real
// module systems.
package nixos

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
{{- if eq .Kind "darwin"}}
# A nix-darwin module: add this file to imports in your darwin configuration.
# It needs nix-darwin to manage Nix (nix.enable = true, the default): with
# nix.enable = false nix-darwin writes no nix.conf and these settings have no
# effect. Determinate Nix users: use a nixconf target with
# path = "/etc/nix/nix.custom.conf" instead.
# Not both on one machine: with nix.enable = true, nix-darwin refuses to
# activate while /etc/nix/nix.custom.conf holds content it does not know
# (Determinate Nix's settings), so a machine cannot take this module and
# such a nixconf target.
{{- else}}
# A NixOS module: add this file to imports in your NixOS configuration.
{{- end}}
#
{{- if .In.Target.Exclusive}}
# exclusive = true: lib.mkForce makes these the only trusted public keys, so
# keys other modules set in nix.settings.trusted-public-keys or
# nix.settings.extra-trusted-public-keys, cache.nixos.org's included, are no
# longer trusted. It cannot remove keys added through nix.extraOptions, and
# the daemon still honours the trusted-public-keys of users in trusted-users
# (their own nix.conf, NIX_CONFIG or --option).
# Substituters are not forced: they are added to the system's list, and a
# substituter whose key is not trusted here can no longer be used.
{{- else}}
# Module lists are merged, so keys set elsewhere (cache.nixos.org's
# included) stay trusted.
{{- end}}
{ {{if .In.Target.Exclusive}}lib, {{end}}... }:
{
  nix.settings.trusted-public-keys = {{if .In.Target.Exclusive}}lib.mkForce {{end}}
{{- with .KeyLines}}[
{{.}}  ];
{{- else}}[ ];
{{- end}}
{{- if .In.Target.Exclusive}}
  nix.settings.extra-trusted-public-keys = lib.mkForce [ ];
{{- end}}
{{- with .Substituters}}
  nix.settings.substituters = [
{{- range .}}
    {{nixstr .Value}}{{with .Comment}} # {{.}}{{end}}
{{- end}}
  ];
{{- end}}
}
`))
})

// Render returns the module for a nixos or darwin target.
func Render(in renderer.Input) ([]byte, error) {
	t := in.Target
	if t.Kind != policy.NixOS && t.Kind != policy.Darwin {
		return nil, fmt.Errorf("nixos: cannot render %s: kind %s is not nixos or darwin", t.ID(), t.Kind)
	}
	// The key lines are built in Go (renderer.Input.NixKeyLines), once per key
	// for all targets: a large policy has hundreds of thousands of them.
	keyLines, err := in.NixKeyLines()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t.ID(), err)
	}
	var b bytes.Buffer
	b.Grow(len(keyLines) + 2048)
	err = tmpl().Execute(&b, struct {
		In           renderer.Input
		Kind         policy.Kind
		KeyLines     string
		Substituters []renderer.Entry
	}{in, t.Kind, keyLines, in.Substituters()})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t.ID(), err)
	}
	return b.Bytes(), nil
}
