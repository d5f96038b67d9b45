package render_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/keyform/keyform/internal/nixtest"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render"
	"github.com/keyform/keyform/schema"
)

// The tests in this file evaluate rendered modules with the real module
// systems (nixpkgs lib.evalModules with NixOS's nix.nix, nix-darwin's
// modules/nix and home-manager's modules/misc/nix; see
// internal/nixtest/modsys/README.md) and feed the nix.conf they write to
// real Nix.

// moduleFiles renders p and keeps the module targets' files.
func moduleFiles(t *testing.T, p *policy.Policy) []nixtest.TargetModule {
	t.Helper()
	files, err := render.Files(p, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mods []nixtest.TargetModule
	for _, f := range files {
		target := p.Target(f.Target)
		if _, ok := nixtest.SystemOf(target.Kind); ok {
			mods = append(mods, nixtest.TargetModule{Target: target, Content: f.Content})
		}
	}
	return mods
}

// renderedModule renders one target of the test policy.
func renderedModule(t *testing.T, id string) (*policy.Target, []byte) {
	t.Helper()
	p := loadBlocks(t, blocks)
	for _, m := range moduleFiles(t, p) {
		if m.Target.ID() == id {
			return m.Target, m.Content
		}
	}
	t.Fatalf("the test policy renders no module for %s", id)
	return nil, nil
}

// TestModsysTestPolicy: every module of the test policy (every module kind,
// exclusive or not, with and without substituters, and with no key at all).
func TestModsysTestPolicy(t *testing.T) {
	mods := moduleFiles(t, loadBlocks(t, blocks))
	if len(mods) != 7 {
		t.Fatalf("the test policy renders %d modules, want 7", len(mods))
	}
	nixtest.CheckModsys(t, mods)
}

// TestModsysExamples: every committed examples/*/generated module.
func TestModsysExamples(t *testing.T) {
	hcls, err := filepath.Glob("../examples/*/keyform.hcl")
	if err != nil || len(hcls) == 0 {
		t.Fatalf("no examples found (%v)", err)
	}
	var mods []nixtest.TargetModule
	for _, hcl := range hcls {
		dir := filepath.Dir(hcl)
		res := schema.Load(dir, schema.Options{Now: testNow})
		if res.HasErrors() {
			t.Fatalf("%s does not load", dir)
		}
		for _, target := range res.Policy.Targets {
			if _, ok := nixtest.SystemOf(target.Kind); !ok {
				continue
			}
			content, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(render.Path(target, res.Policy.Settings.OutputDir))))
			if err != nil {
				t.Fatal(err)
			}
			mods = append(mods, nixtest.TargetModule{Target: target, Content: content})
		}
	}
	if len(mods) < 8 {
		t.Fatalf("found %d example modules, want at least 8", len(mods))
	}
	nixtest.CheckModsys(t, mods)
}

const (
	otherKey    = "other.example-1:8cuZqwja0GpV6td1imBrh/Z89GT0dXjn5pGtBBwoTrc="
	intruderKey = "intruder.example-1:LFJTDKPIDQc0mmPDXzKNZtvH8+S0ssq6rPPhgFJiiEo="
)

// effectiveKeys evaluates modules (the rendered one first) with system's
// module system and returns the trusted-public-keys Nix reads from the
// nix.conf it writes, and the final nix.settings.
func effectiveKeys(t *testing.T, n *nixtest.Nix, src, lib string, sys nixtest.System, modules ...[]byte) ([]string, nixtest.ModuleResult) {
	t.Helper()
	r := n.EvalModules(t, src, lib, []nixtest.ModuleCase{{Name: "case", System: sys, Modules: modules}})[0]
	if len(r.FailedAssertions) > 0 || r.NixConf == nil {
		n.Fatalf(t, "%s with %s: failed assertions %q, nix.conf written: %v", sys, lib, r.FailedAssertions, r.NixConf != nil)
	}
	conf := []byte(*r.NixConf)
	if sys == nixtest.HomeManager {
		return nixtest.EffectiveList(n.ShowConfigFiles(t, nil, conf), "trusted-public-keys"), r
	}
	return nixtest.EffectiveList(n.ShowConfig(t, conf), "trusted-public-keys"), r
}

// TestModsysExclusive: exclusive = true leaves only the policy's keys even
// when other modules add keys through nix.settings.trusted-public-keys or
// nix.settings.extra-trusted-public-keys; keys in nix.extraOptions stay
// trusted, as the rendered comment says.
func TestModsysExclusive(t *testing.T) {
	src := nixtest.ModsysSources(t)
	other := []byte(`{
  nix.settings.trusted-public-keys = [ "` + otherKey + `" ];
  nix.settings.extra-trusted-public-keys = [ "` + intruderKey + `" ];
}`)
	extraOptions := []byte(`{ nix.extraOptions = "extra-trusted-public-keys = ` + intruderKey + `"; }`)
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
		for _, id := range []string{"nixos.locked", "darwin.locked_macs"} {
			target, module := renderedModule(t, id)
			sys, _ := nixtest.SystemOf(target.Kind)
			want, _ := nixtest.WantTrust(target)
			for _, lib := range n.Libs(sys) {
				got, r := effectiveKeys(t, n, src, lib, sys, module, other)
				if !slices.Equal(got, want) {
					n.Errorf(t, "%s with %s and another module's keys: Nix trusts %q, want only %q\nnix.conf:\n%s", id, lib, got, want, *r.NixConf)
				}
				got, _ = effectiveKeys(t, n, src, lib, sys, module, extraOptions)
				if !slices.Contains(got, intruderKey) {
					n.Errorf(t, "%s with %s: a key in nix.extraOptions is no longer trusted (%q); the rendered comment says exclusive cannot remove it", id, lib, got)
				}
			}
		}
	})
}

// TestModsysHomeManagerInSystem: as a NixOS or nix-darwin module,
// home-manager sets nix.package to the system's at normal priority, and
// the rendered lib.mkDefault yields to it without a conflict. With the
// system's nix.enable = false (nix-darwin under Determinate Nix),
// home-manager turns its nix module off and writes no nix.conf.
func TestModsysHomeManagerInSystem(t *testing.T) {
	src := nixtest.ModsysSources(t)
	target, module := renderedModule(t, "home_manager.devs")
	nixtest.EachAtLeast(t, "2.18", func(t *testing.T, n *nixtest.Nix) {
		for _, lib := range n.Libs(nixtest.HomeManager) {
			res := n.EvalModules(t, src, lib, []nixtest.ModuleCase{
				{Name: "standalone", System: nixtest.HomeManager, Modules: [][]byte{module}},
				{Name: "in-system", System: nixtest.HomeManager, Modules: [][]byte{module}, OS: &nixtest.OSNix{Enable: true, Version: "2.24.0"}},
				{Name: "system-nix-disabled", System: nixtest.HomeManager, Modules: [][]byte{module}, OS: &nixtest.OSNix{Enable: false, Version: "2.24.0"}},
			})
			standalone, inSystem, disabled := res[0], res[1], res[2]
			if len(standalone.FailedAssertions) > 0 || standalone.Package == nil || *standalone.Package != "nix-"+n.Version || standalone.NixConf == nil {
				n.Errorf(t, "standalone home-manager with %s: failed assertions %q, nix.package %v, nix.conf written: %v; want pkgs.nix (nix-%s) and a nix.conf",
					lib, standalone.FailedAssertions, deref(standalone.Package), standalone.NixConf != nil, n.Version)
			}
			if len(inSystem.FailedAssertions) > 0 || inSystem.Package == nil || *inSystem.Package != "nix-2.24.0" || inSystem.NixConf == nil {
				n.Errorf(t, "home-manager in a system with %s: failed assertions %q, nix.package %v, nix.conf written: %v; want the system's nix-2.24.0 and a nix.conf",
					lib, inSystem.FailedAssertions, deref(inSystem.Package), inSystem.NixConf != nil)
			}
			if len(disabled.FailedAssertions) > 0 || disabled.NixConf != nil {
				n.Errorf(t, "home-manager in a system with nix.enable = false with %s: failed assertions %q, nix.conf written: %v; want no nix.conf (the rendered comment says so)",
					lib, disabled.FailedAssertions, disabled.NixConf != nil)
			}
			if !slices.Equal(inSystem.Settings["extra-trusted-public-keys"], publicKeys(target)) {
				n.Errorf(t, "home-manager in a system with %s: extra-trusted-public-keys = %q", lib, inSystem.Settings["extra-trusted-public-keys"])
			}
		}
	})
}

// TestModsysHomeManagerPlainSettingCaveat: home-manager writes settings in
// alphabetical order and does not move extra- lines last (NixOS and
// nix-darwin do), so a plain trusted-public-keys in the same home
// configuration comes after keyform's extra-trusted-public-keys and Nix
// drops keyform's keys (NixOS/nix#9487). The rendered comment warns about
// it; this test fails when the caveat no longer holds. The nix.conf
// home-manager writes is read by every Nix version.
func TestModsysHomeManagerPlainSettingCaveat(t *testing.T) {
	src := nixtest.ModsysSources(t)
	target, module := renderedModule(t, "home_manager.devs")
	plain := []byte(`{ nix.settings.trusted-public-keys = [ "` + otherKey + `" ]; }`)
	evaluator := nixtest.Newest(t, "2.18")
	r := evaluator.EvalModules(t, src, "lib-current", []nixtest.ModuleCase{{Name: "plain", System: nixtest.HomeManager, Modules: [][]byte{module, plain}}})[0]
	if r.NixConf == nil {
		evaluator.Fatalf(t, "home-manager wrote no nix.conf: failed assertions %q", r.FailedAssertions)
	}
	conf := *r.NixConf
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
		got := nixtest.EffectiveList(n.ShowConfigFiles(t, nil, []byte(conf)), "trusted-public-keys")
		if !slices.Equal(got, []string{otherKey}) {
			n.Errorf(t, "a plain trusted-public-keys next to the rendered module: Nix trusts %q, want only %q (keyform's keys dropped); update the home-manager caveat in render/homemanager\nnix.conf:\n%s", got, otherKey, conf)
		}
		for _, k := range publicKeys(target) {
			if slices.Contains(got, k) {
				n.Errorf(t, "keyform's key %s survived a plain trusted-public-keys", k)
			}
		}
	})
}

func publicKeys(target *policy.Target) []string {
	var keys []string
	for _, k := range target.Keys {
		keys = append(keys, k.PublicKey)
	}
	return keys
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}
