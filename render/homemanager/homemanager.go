// Package homemanager renders the module for home_manager targets: a
// home-manager module that adds the target's keys and substituters to the
// user's nix.conf with nix.settings.extra-trusted-public-keys and
// extra-substituters.
//
// The extra- settings matter: a user-level trusted-public-keys would
// replace the system's list instead of adding to it. nix.package is set with
// lib.mkDefault because standalone home-manager writes no nix.conf (a failed
// assertion) without it, while as a NixOS or nix-darwin module home-manager
// sets it to the system's at normal priority, which wins.
// render/modsys_test.go checks all of this with the real module system.
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
# nix.package is set: this module defaults it to pkgs.nix (lib.mkDefault),
# which standalone home-manager also puts on its activation PATH; as a NixOS
# or nix-darwin module, home-manager uses the system's nix.package instead,
# and writes nothing when the system has nix.enable = false (nix-darwin with
# Determinate Nix). The extra- settings add to the keys and substituters the
# system trusts instead of replacing them.
#
# Do not set a plain nix.settings.trusted-public-keys or substituters in the
# same home configuration: home-manager writes settings in alphabetical order,
# so the plain line follows these extra- lines and Nix silently drops
# keyform's keys (NixOS/nix#9487). Use the extra- settings there too.
#
# The Nix daemon honours these settings only for users listed in its
# trusted-users setting; keyform cannot check that for you.
{ lib, pkgs, ... }:
{
  nix.package = lib.mkDefault pkgs.nix;
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
