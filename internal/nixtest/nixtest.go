// Package nixtest checks keyform's output with real Nix in tests, on every
// Nix version the machine offers: rendered modules must parse and evaluate
// to the policy's keys, rendered nix.conf snippets must make Nix trust
// them, and (modsys.go) rendered modules must give the intended nix.conf
// through the real NixOS, nix-darwin and home-manager module code.
//
// Which Nix versions: KEYFORM_NIX_BINS lists directories, separated by ":",
// each holding one Nix's commands (nix, nix-instantiate, nix-build, ...);
// .ci/setup-nix prints it for Nix 2.8 and 2.26. Without it, the nix on PATH
// is the only version. Tests skip when there is no Nix at all, unless:
//
//	KEYFORM_REQUIRE_NIX=1                 no Nix is a failure
//	KEYFORM_REQUIRE_NIX_VERSIONS=2.8,2.26 each listed version (major.minor,
//	                                      or a full version) must be there
//
// .ci/run sets both. Each version runs as a subtest named after it
// (nix-2.26.3), and the helpers name the version in every failure.
package nixtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Environment variables read by this package.
const (
	EnvBins             = "KEYFORM_NIX_BINS"
	EnvRequire          = "KEYFORM_REQUIRE_NIX"
	EnvRequireVersions  = "KEYFORM_REQUIRE_NIX_VERSIONS"
	defaultRequireValue = "1"
)

// Nix is one installed Nix version.
type Nix struct {
	// Version as "nix --version" prints it, such as "2.26.3".
	Version string
	// Dir holds this version's commands; it goes first on PATH.
	Dir string
}

// Name is the subtest name for this version: "nix-2.26.3".
func (n *Nix) Name() string { return "nix-" + n.Version }

func (n *Nix) String() string { return "Nix " + n.Version }

// AtLeast reports whether this version is v or newer ("2.20", "2.18.1").
func (n *Nix) AtLeast(v string) bool { return compareVersions(n.Version, v) >= 0 }

// Bin is the path of one of this version's commands.
func (n *Nix) Bin(tool string) string { return filepath.Join(n.Dir, tool) }

// Environ is os.Environ() with this version's directory first on PATH, so
// that programs which run nix themselves (keyform verify) find this one.
func (n *Nix) Environ() []string {
	return append(os.Environ(), "PATH="+n.Dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// Command runs one of this version's commands with Environ.
func (n *Nix) Command(tool string, args ...string) *exec.Cmd {
	cmd := exec.Command(n.Bin(tool), args...)
	cmd.Env = n.Environ()
	return cmd
}

// ShowConfigArgs are the nix arguments that print the effective settings
// as JSON: "config show" since Nix 2.20, "show-config" before (2.20 still
// takes it, with a deprecation warning).
func (n *Nix) ShowConfigArgs() []string {
	if n.AtLeast("2.20") {
		return []string{"--extra-experimental-features", "nix-command", "config", "show", "--json"}
	}
	return []string{"--extra-experimental-features", "nix-command", "show-config", "--json"}
}

// Errorf reports a failure prefixed with the Nix version.
func (n *Nix) Errorf(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Errorf("%s: %s", n, fmt.Sprintf(format, args...))
}

// Fatalf reports a failure prefixed with the Nix version and stops the test.
func (n *Nix) Fatalf(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Fatalf("%s: %s", n, fmt.Sprintf(format, args...))
}

// Logf logs prefixed with the Nix version.
func (n *Nix) Logf(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Logf("%s: %s", n, fmt.Sprintf(format, args...))
}

var discovered = sync.OnceValues(func() ([]*Nix, error) {
	return discover(os.Getenv(EnvBins), exec.LookPath, nixVersion)
})

// discover finds the Nix versions in the directories of bins, or the nix on
// PATH when bins is empty, ordered oldest first. A listed directory without
// a working nix is an error: CI asked for it.
func discover(bins string, lookPath func(string) (string, error), version func(dir string) (string, error)) ([]*Nix, error) {
	var dirs []string
	if bins == "" {
		p, err := lookPath("nix")
		if err != nil {
			return nil, nil
		}
		dirs = []string{filepath.Dir(p)}
	} else {
		for _, d := range filepath.SplitList(bins) {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	var out []*Nix
	for _, d := range dirs {
		v, err := version(d)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %s: %v", EnvBins, bins, filepath.Join(d, "nix"), err)
		}
		if slices.ContainsFunc(out, func(n *Nix) bool { return n.Version == v }) {
			continue
		}
		out = append(out, &Nix{Version: v, Dir: d})
	}
	slices.SortStableFunc(out, func(a, b *Nix) int { return compareVersions(a.Version, b.Version) })
	return out, nil
}

// nixVersion runs DIR/nix --version: "nix (Nix) 2.26.3", or for Lix
// "nix (Lix, like Nix) 2.91.1"; the version is the last word.
func nixVersion(dir string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(filepath.Join(dir, "nix"), "--version")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	f := strings.Fields(stdout.String())
	if len(f) == 0 || !strings.Contains(stdout.String(), "Nix") {
		return "", fmt.Errorf("unexpected --version output %q", stdout.String())
	}
	return f[len(f)-1], nil
}

// missing returns the entries of required (comma-separated versions) that
// no version in have matches: "2.26" matches 2.26.x, "2.26.3" only itself.
func missing(required string, have []*Nix) []string {
	var miss []string
	for _, r := range strings.Split(required, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !slices.ContainsFunc(have, func(n *Nix) bool {
			return n.Version == r || strings.HasPrefix(n.Version, r+".")
		}) {
			miss = append(miss, r)
		}
	}
	return miss
}

// Versions returns every available Nix version, oldest first. It skips the
// test when there is none, and fails it when KEYFORM_REQUIRE_NIX=1 or when
// a version KEYFORM_REQUIRE_NIX_VERSIONS lists is missing.
func Versions(t testing.TB) []*Nix {
	t.Helper()
	all, err := discovered()
	if err != nil {
		t.Fatalf("nixtest: %v\nhint: run .ci/setup-nix again, or unset %s", err, EnvBins)
	}
	fail, skip := judge(all, os.Getenv(EnvRequire), os.Getenv(EnvRequireVersions))
	if fail != "" {
		t.Fatal(fail)
	}
	if skip != "" {
		t.Skip(skip)
	}
	return all
}

// judge says whether the versions found satisfy the requirements: a
// failure message, or a reason to skip, or neither.
func judge(all []*Nix, require, requireVersions string) (fail, skip string) {
	var found []string
	for _, n := range all {
		found = append(found, n.Version+" ("+n.Dir+")")
	}
	if requireVersions != "" {
		if miss := missing(requireVersions, all); len(miss) > 0 {
			return fmt.Sprintf("%s=%s but Nix %s is missing (found: %s)\nhint: eval \"$(.ci/setup-nix)\" sets %s",
				EnvRequireVersions, requireVersions, strings.Join(miss, ", "), orNone(found), EnvBins), ""
		}
	}
	if len(all) == 0 {
		if require == defaultRequireValue {
			return fmt.Sprintf("%s=1 but no Nix is installed (no nix on PATH, %s unset)", EnvRequire, EnvBins), ""
		}
		return "", fmt.Sprintf("no Nix installed (set %s=1 to make this a failure)", EnvRequire)
	}
	return "", ""
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// Require skips (or, as Versions says, fails) the test when no Nix is
// available.
func Require(t testing.TB) {
	t.Helper()
	Versions(t)
}

// Each runs f as a subtest named after each available Nix version.
func Each(t *testing.T, f func(t *testing.T, n *Nix)) {
	t.Helper()
	for _, n := range Versions(t) {
		t.Run(n.Name(), func(t *testing.T) { f(t, n) })
	}
}

// EachOnPath is Each with that version's commands first on PATH, for
// code under test that runs "nix" by name.
func EachOnPath(t *testing.T, f func(t *testing.T, n *Nix)) {
	t.Helper()
	Each(t, func(t *testing.T, n *Nix) {
		t.Setenv("PATH", n.Dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
		f(t, n)
	})
}

// MajorMinor is the version without its patch level ("2.26").
func (n *Nix) MajorMinor() string {
	v := strings.Split(n.Version, ".")
	return strings.Join(v[:min(2, len(v))], ".")
}

// EachAtLeast runs f for each available version that is min or newer, and
// says in the log which versions it left out. With none of them, the test
// skips, or fails under KEYFORM_REQUIRE_NIX=1.
func EachAtLeast(t *testing.T, min string, f func(t *testing.T, n *Nix)) {
	t.Helper()
	var ran bool
	for _, n := range Versions(t) {
		if !n.AtLeast(min) {
			t.Logf("%s: skipped, this check needs Nix %s or newer", n, min)
			continue
		}
		ran = true
		t.Run(n.Name(), func(t *testing.T) { f(t, n) })
	}
	if !ran {
		if os.Getenv(EnvRequire) == defaultRequireValue {
			t.Fatalf("%s=1 but no Nix %s or newer is installed", EnvRequire, min)
		}
		t.Skipf("needs Nix %s or newer", min)
	}
}

// Newest returns the newest available version that is min or newer. With
// none, the test skips, or fails under KEYFORM_REQUIRE_NIX=1.
func Newest(t testing.TB, min string) *Nix {
	t.Helper()
	all := Versions(t)
	if n := all[len(all)-1]; n.AtLeast(min) {
		return n
	}
	if os.Getenv(EnvRequire) == defaultRequireValue {
		t.Fatalf("%s=1 but no Nix %s or newer is installed", EnvRequire, min)
	}
	t.Skipf("needs Nix %s or newer", min)
	return nil
}

// each runs f once per version: as subtests when t is a *testing.T, else in
// turn (f must then name the version in its failures, as the Nix methods do).
func each(t testing.TB, f func(t testing.TB, n *Nix)) {
	t.Helper()
	for _, n := range Versions(t) {
		if tt, ok := t.(*testing.T); ok {
			tt.Run(n.Name(), func(t *testing.T) { f(t, n) })
		} else {
			f(t, n)
		}
	}
}

// compareVersions compares dotted versions numerically, part by part;
// a missing part counts as 0 and a non-numeric suffix ("3pre", "0rc1") is
// ignored, so "2.20pre" equals "2.20".
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x = leadingInt(as[i])
		}
		if i < len(bs) {
			y = leadingInt(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func leadingInt(s string) int {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

// run runs one of n's commands in dir with a clean, isolated
// configuration: no system or user nix.conf, HOME and caches inside dir.
// extraEnv comes last and so wins. Output on stderr is a failure: keyform's
// checks must not lean on anything Nix warns about.
func (n *Nix) run(t testing.TB, dir string, extraEnv []string, tool string, args ...string) []byte {
	t.Helper()
	cmd := n.Command(tool, args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Env, IsolatedEnv(dir)...)
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		n.Fatalf(t, "%s %s: %v\n%s", tool, strings.Join(args, " "), err, stderr.Bytes())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		n.Fatalf(t, "%s %s printed on stderr:\n%s", tool, strings.Join(args, " "), s)
	}
	// Nix 2.8 to 2.10 print no newline after --json output.
	return bytes.TrimSpace(stdout.Bytes())
}

// IsolatedEnv is the environment that keeps a Nix command from reading
// this machine's or this user's configuration: HOME, caches and an empty
// NIX_CONF_DIR inside dir (dir/.nixtest-empty-conf, which it creates).
func IsolatedEnv(dir string) []string {
	empty := filepath.Join(dir, ".nixtest-empty-conf")
	_ = os.MkdirAll(empty, 0o755)
	return []string{
		"HOME=" + dir,
		"XDG_CACHE_HOME=" + filepath.Join(dir, ".cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, ".config"),
		"XDG_CONFIG_DIRS=" + empty,
		"NIX_USER_CONF_FILES=" + filepath.Join(empty, "none.conf"),
		"NIX_CONF_DIR=" + empty,
		"NIX_CONFIG=",
	}
}
