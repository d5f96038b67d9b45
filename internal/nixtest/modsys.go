package nixtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/keyform/keyform/policy"
)

// The real module systems: modsys/eval.nix evaluates rendered modules with
// nixpkgs' lib.evalModules and the upstream modules that declare and
// serialize nix.settings (modsys/README.md). Their sources are pinned in
// modsys/PINS and kept out of the repository; .ci/modsys-sources lays them
// out in KEYFORM_MODSYS_DIR (default /var/cache/keyform-ci/modsys). Tests
// skip these checks when that directory does not exist, unless
// KEYFORM_REQUIRE_MODSYS=1 (.ci/run sets it when the directory is there).
const (
	EnvModsysDir       = "KEYFORM_MODSYS_DIR"
	EnvRequireModsys   = "KEYFORM_REQUIRE_MODSYS"
	defaultModsysDir   = "/var/cache/keyform-ci/modsys"
	currentLibMinNix   = "2.18" // lib-current's lib/minfeatures.nix
	libOld, libCurrent = "lib-24.05", "lib-current"
)

// System is a module system keyform renders modules for.
type System string

const (
	NixOS       System = "nixos"
	Darwin      System = "darwin"
	HomeManager System = "home-manager"
)

// SystemOf is the module system of a target kind; false for nixconf.
func SystemOf(kind policy.Kind) (System, bool) {
	switch kind {
	case policy.NixOS:
		return NixOS, true
	case policy.Darwin:
		return Darwin, true
	case policy.HomeManager:
		return HomeManager, true
	}
	return "", false
}

// Libs are the nixpkgs lib sets n can evaluate system's modules with: NixOS
// with nixpkgs 24.05's lib everywhere (it needs Nix 2.3), and every system
// with the current lib on Nix 2.18 or newer. The current home-manager and
// nix-darwin need the current lib.
func (n *Nix) Libs(system System) []string {
	var libs []string
	if system == NixOS {
		libs = append(libs, libOld)
	}
	if n.AtLeast(currentLibMinNix) {
		libs = append(libs, libCurrent)
	}
	return libs
}

// ModuleCase is one evaluation by a real module system.
type ModuleCase struct {
	Name   string
	System System
	// Modules are module files' contents: the rendered module, and any
	// module a test adds beside it (another module of the same system).
	Modules [][]byte
	// OS is for home-manager: nil evaluates standalone home-manager,
	// otherwise home-manager as a NixOS or nix-darwin module.
	OS *OSNix
}

// OSNix describes the system home-manager runs inside: its nix.enable and
// the version of its nix.package.
type OSNix struct {
	Enable  bool   `json:"enable"`
	Version string `json:"version"`
}

// ModuleResult is what a module system made of a ModuleCase.
type ModuleResult struct {
	Name string `json:"name"`
	// Settings holds the final nix.settings trust lists:
	// trusted-public-keys, extra-trusted-public-keys, substituters and
	// extra-substituters; nil when the setting is not defined.
	Settings map[string][]string `json:"settings"`
	// NixConf is the nix.conf text the module system writes, or nil when
	// an assertion failed.
	NixConf *string `json:"nixConf"`
	// FailedAssertions are the messages of failed assertions: the real
	// system refuses to build with any.
	FailedAssertions []string `json:"failedAssertions"`
	// Package is nix.package's name, nil when null.
	Package *string `json:"package"`
}

func modsysDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("nixtest: cannot locate modsys/")
	}
	return filepath.Join(filepath.Dir(file), "modsys")
}

type pin struct{ set, repo, commit, path, sha256 string }

func readPins() ([]pin, error) {
	f, err := os.Open(filepath.Join(modsysDir(), "PINS"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pins []pin
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 5 || len(f[4]) != 64 {
			return nil, fmt.Errorf("modsys/PINS:%d: want 5 tab-separated columns ending in a sha256, got %q", line, l)
		}
		pins = append(pins, pin{f[0], f[1], f[2], f[3], f[4]})
	}
	return pins, sc.Err()
}

// ModsysSources copies the pinned upstream sources and eval.nix into a
// temporary directory (Nix in the CI chroot sees temporary directories),
// checking each file's sha256, and returns it. It skips the test when the
// sources are not installed, unless KEYFORM_REQUIRE_MODSYS=1.
func ModsysSources(t testing.TB) string {
	t.Helper()
	src := os.Getenv(EnvModsysDir)
	if src == "" {
		src = defaultModsysDir
	}
	if _, err := os.Stat(src); err != nil {
		if os.Getenv(EnvRequireModsys) == "1" {
			t.Fatalf("%s=1 but the upstream module sources are not in %s: %v\nhint: .ci/modsys-sources lays them out", EnvRequireModsys, src, err)
		}
		t.Skipf("upstream module sources not installed in %s (see internal/nixtest/modsys/README.md)", src)
	}
	pins, err := readPins()
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	for _, p := range pins {
		data, err := os.ReadFile(filepath.Join(src, p.set, p.path))
		if err != nil {
			t.Fatalf("%v\nhint: .ci/modsys-sources lays out the sources listed in internal/nixtest/modsys/PINS", err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != p.sha256 {
			t.Fatalf("%s: sha256 %x, PINS says %s (%s %s %s)\nhint: lay it out again with .ci/modsys-sources",
				filepath.Join(src, p.set, p.path), sum, p.sha256, p.repo, p.commit, p.path)
		}
		writeFile(t, filepath.Join(dst, p.set, p.path), data)
	}
	for _, name := range []string{"eval.nix", "stubs.nix"} {
		data, err := os.ReadFile(filepath.Join(modsysDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, "keyform", name), data)
	}
	return dst
}

func writeFile(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// EvalModules evaluates cases, all with the nixpkgs lib set lib, in one
// nix-instantiate run, with the sources ModsysSources copied to src.
func (n *Nix) EvalModules(t testing.TB, src, lib string, cases []ModuleCase) []ModuleResult {
	t.Helper()
	dir := t.TempDir()
	type jsonCase struct {
		Name    string   `json:"name"`
		System  System   `json:"system"`
		Lib     string   `json:"lib"`
		Modules []string `json:"modules"`
		OS      *OSNix   `json:"os"`
	}
	var jcases []jsonCase
	for i, c := range cases {
		if !slices.Contains(n.Libs(c.System), lib) {
			n.Fatalf(t, "%s: %s cannot evaluate %s modules with %s", c.Name, n, c.System, lib)
		}
		jc := jsonCase{Name: c.Name, System: c.System, Lib: lib, OS: c.OS}
		for j, m := range c.Modules {
			name := filepath.Join(dir, fmt.Sprintf("case%d-module%d.nix", i, j))
			writeFile(t, name, m)
			jc.Modules = append(jc.Modules, name)
		}
		jcases = append(jcases, jc)
	}
	args, err := json.Marshal(map[string]any{
		"eval":  filepath.Join(src, "keyform", "eval.nix"),
		"src":   src,
		"cases": jcases,
	})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "args.json"), args)
	const expr = `let a = builtins.fromJSON (builtins.readFile ./args.json); in
import (/. + a.eval) { src = /. + a.src; cases = a.cases; }`
	out := n.run(t, dir, nil, "nix-instantiate", "--eval", "--strict", "--json", "-E", expr)
	var res []ModuleResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		n.Fatalf(t, "eval.nix gave %d results for %d cases (%v):\n%s", len(res), len(cases), err, out)
	}
	return res
}

// TargetModule is a module rendered for a target.
type TargetModule struct {
	Target  *policy.Target
	Content []byte
}

// CheckModsys evaluates each module with the real module system of its
// target's kind, on every Nix version and lib set that can (a subtest per
// version), and checks:
//   - no assertion fails, and nix.package is set (home-manager writes no
//     nix.conf without it);
//   - the final nix.settings: nixos and darwin keep cache.nixos.org's key
//     next to the target's keys, or, exclusive, trust only the target's
//     keys and no extra-trusted-public-keys; substituters are added to
//     cache.nixos.org (never forced); home-manager has exactly the target's
//     keys and substituters as extra- settings and no plain ones;
//   - the nix.conf the module system writes from them, read by that Nix
//     (as /etc/nix/nix.conf, or for home-manager as the user's nix.conf
//     after a default system one), trusts the same keys and substituters.
func CheckModsys(t *testing.T, mods []TargetModule) {
	t.Helper()
	src := ModsysSources(t)
	Each(t, func(t *testing.T, n *Nix) {
		for _, lib := range []string{libOld, libCurrent} {
			var cases []ModuleCase
			var targets []*policy.Target
			for _, m := range mods {
				sys, ok := SystemOf(m.Target.Kind)
				if !ok || !slices.Contains(n.Libs(sys), lib) {
					continue
				}
				cases = append(cases, ModuleCase{Name: m.Target.ID(), System: sys, Modules: [][]byte{m.Content}})
				targets = append(targets, m.Target)
			}
			if len(cases) == 0 {
				continue
			}
			for i, r := range n.EvalModules(t, src, lib, cases) {
				n.checkResult(t, lib, targets[i], r)
			}
		}
	})
}

// WantTrust is what a machine must end up trusting for target: its keys,
// plus cache.nixos.org's unless exclusive, and its substituters plus
// cache.nixos.org (substituters are never forced).
func WantTrust(target *policy.Target) (keys, subs []string) {
	for _, k := range target.Keys {
		keys = append(keys, k.PublicKey)
	}
	if !target.Exclusive {
		keys = append(keys, DefaultKey)
	}
	subs = append(slices.Clone(target.Substituters), DefaultSubstituter)
	return orEmpty(sorted(keys)), sorted(subs)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func (n *Nix) checkResult(t testing.TB, lib string, target *policy.Target, r ModuleResult) {
	t.Helper()
	where := target.ID() + " with " + lib
	if len(r.FailedAssertions) > 0 {
		n.Errorf(t, "%s: failed assertions: %q", where, r.FailedAssertions)
		return
	}
	if r.Package == nil {
		n.Errorf(t, "%s: nix.package is null", where)
	}
	wantKeys, wantSubs := WantTrust(target)
	var policyKeys []string
	for _, k := range target.Keys {
		policyKeys = append(policyKeys, k.PublicKey)
	}
	s := r.Settings
	if target.Kind == policy.HomeManager {
		checkList(t, n, where, "extra-trusted-public-keys", s["extra-trusted-public-keys"], orEmpty(policyKeys))
		var subs []string
		if len(target.Substituters) > 0 {
			subs = target.Substituters
		}
		checkList(t, n, where, "extra-substituters", s["extra-substituters"], subs)
		checkList(t, n, where, "trusted-public-keys", s["trusted-public-keys"], nil)
		checkList(t, n, where, "substituters", s["substituters"], nil)
	} else {
		checkList(t, n, where, "trusted-public-keys", sortedOrNil(s["trusted-public-keys"]), wantKeys)
		checkList(t, n, where, "substituters", sortedOrNil(s["substituters"]), wantSubs)
		var extra []string
		if target.Exclusive {
			extra = []string{}
		}
		checkList(t, n, where, "extra-trusted-public-keys", s["extra-trusted-public-keys"], extra)
	}
	if r.NixConf == nil {
		n.Errorf(t, "%s: the module system wrote no nix.conf", where)
		return
	}
	var conf map[string]Setting
	if target.Kind == policy.HomeManager {
		conf = n.ShowConfigFiles(t, nil, []byte(*r.NixConf))
	} else {
		conf = n.ShowConfig(t, []byte(*r.NixConf))
	}
	if got := EffectiveList(conf, "trusted-public-keys"); !slices.Equal(got, wantKeys) {
		n.Errorf(t, "%s: nix config show of the nix.conf the module system writes trusts %q, want %q\nnix.conf:\n%s", where, got, wantKeys, *r.NixConf)
	}
	if got := EffectiveList(conf, "substituters"); !slices.Equal(got, wantSubs) {
		n.Errorf(t, "%s: nix config show of the nix.conf the module system writes has substituters %q, want %q\nnix.conf:\n%s", where, got, wantSubs, *r.NixConf)
	}
}

// EffectiveList returns a list setting of "nix config show --json",
// sorted and without duplicates.
func EffectiveList(conf map[string]Setting, name string) []string {
	v, _ := conf[name].Value.([]any)
	var out []string
	for _, e := range v {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return sorted(out)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sortedOrNil(s []string) []string {
	if s == nil {
		return nil
	}
	return sorted(s)
}

// checkList compares a setting with want; nil means "not defined", an empty
// non-nil slice "defined as the empty list".
func checkList(t testing.TB, n *Nix, where, name string, got, want []string) {
	t.Helper()
	if (got == nil) != (want == nil) || !slices.Equal(got, want) {
		n.Errorf(t, "%s: nix.settings.%s = %s, want %s", where, name, showList(got), showList(want))
	}
}

func showList(s []string) string {
	if s == nil {
		return "(not defined)"
	}
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(s)
	return strings.TrimSpace(b.String())
}
