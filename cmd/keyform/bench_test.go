package main

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/synthetic"
)

// Whole commands, in process: load, render, read the tree, compare, write.
// BENCHMARKS.md has the numbers and the whole-process (exec) measurements.

// benchSize is one policy size of the command benchmarks.
type benchSize struct {
	name string
	cfg  synthetic.Config // zero Keys: examples/fleet
}

var benchSizes = []benchSize{
	{"fleet", synthetic.Config{}},
	{"keys=100/targets=100", synthetic.Medium},
	{"keys=1000/targets=300", synthetic.Mid},
	{"keys=10000/targets=1000", synthetic.Large},
}

// startDir is the package directory: commands run with -C change the
// working directory.
var startDir, _ = os.Getwd()

// benchPolicy writes the policy of s into a fresh directory and returns it.
func benchPolicy(b *testing.B, s benchSize) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "policy")
	if s.cfg.Keys == 0 {
		if err := os.CopyFS(dir, os.DirFS(filepath.Join(startDir, "../../examples/fleet"))); err != nil {
			b.Fatal(err)
		}
		return dir
	}
	if err := synthetic.Write(dir, s.cfg); err != nil {
		b.Fatal(err)
	}
	return dir
}

// runCmd runs keyform with args in dir, failing the benchmark unless it
// exits 0.
func runCmd(b *testing.B, dir string, args ...string) {
	b.Helper()
	runCmdExit(b, 0, dir, args...)
}

func runCmdExit(b *testing.B, want int, dir string, args ...string) {
	b.Helper()
	var stderr strings.Builder
	e := &cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &stderr, Rand: rand.Reader}
	if code := run(append([]string{"-C", dir}, args...), e); code != want {
		b.Fatalf("keyform %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, stderr.String())
	}
}

// benchEnv pins what the commands read from the environment. The working
// directory is restored after the benchmark, since -C changes it.
func benchEnv(b *testing.B) {
	b.Setenv("KEYFORM_NOW", "2026-11-25")
	b.Setenv("NO_COLOR", "1")
	b.Cleanup(func() { os.Chdir(startDir) })
}

// BenchmarkCheck runs "keyform check" on a rendered, current tree: load,
// render every target in memory, read every file and compare.
func BenchmarkCheck(b *testing.B) {
	benchEnv(b)
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			dir := benchPolicy(b, s)
			runCmd(b, dir, "render")
			b.ReportAllocs()
			for b.Loop() {
				runCmd(b, dir, "check")
			}
		})
	}
}

// BenchmarkRender runs "keyform render" into an empty output directory:
// load, render, write every file.
func BenchmarkRender(b *testing.B) {
	benchEnv(b)
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			dir := benchPolicy(b, s)
			out := filepath.Join(dir, "generated")
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				if err := os.RemoveAll(out); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				runCmd(b, dir, "render")
			}
		})
	}
}

// BenchmarkKeygen runs "keyform keygen" on a policy that declares n keys
// without key material: n key pairs generated, secrets and public keys
// written.
func BenchmarkKeygen(b *testing.B) {
	benchEnv(b)
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			root := b.TempDir()
			cfg := synthetic.Config{Catalogs: n / 10, Keys: n, Files: 1, Seed: 1, RotateKey: -1, Pending: true}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				dir := filepath.Join(root, fmt.Sprint(i))
				cfg.PrivateKeyDir = filepath.Join(dir, "secrets")
				if err := synthetic.Write(filepath.Join(dir, "policy"), cfg); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				runCmd(b, filepath.Join(dir, "policy"), "keygen")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		})
	}
}

// BenchmarkPlan runs "keyform plan --base-dir" on two generated policies
// that differ by a rotation: load both, compare, print the text plan.
func BenchmarkPlan(b *testing.B) {
	benchEnv(b)
	for _, s := range benchSizes[1:] {
		b.Run(s.name, func(b *testing.B) {
			root := b.TempDir()
			head := s.cfg
			head.RotateKey = 0
			if err := synthetic.Write(filepath.Join(root, "base"), s.cfg); err != nil {
				b.Fatal(err)
			}
			if err := synthetic.Write(filepath.Join(root, "head"), head); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				runCmd(b, filepath.Join(root, "head"), "plan", "--base-dir", filepath.Join(root, "base"))
			}
		})
	}
}

// BenchmarkApply runs "keyform apply --dry-run" for a nixconf target of
// examples/fleet on generated nix.conf files with an include (see
// synthetic.NixConfFiles): read, parse, patch, evaluate, have the nix on PATH
// load the result and compare, diff. Exit status 1 says the file would
// change. The no-nix-check variants skip nix: the time apply took before
// it had the check.
func BenchmarkApply(b *testing.B) {
	benchEnv(b)
	for _, size := range []int{100 << 10, 1 << 20, 10 << 20} {
		for _, check := range []bool{true, false} {
			name := fmt.Sprintf("size=%dKiB", size>>10)
			args := []string{"apply", "nixconf.ci_runners", "--dry-run"}
			if !check {
				name += "/no-nix-check"
				args = append(args, "--no-nix-check")
			}
			b.Run(name, func(b *testing.B) {
				dir := benchPolicy(b, benchSizes[0])
				confDir := b.TempDir()
				if err := synthetic.WriteFiles(confDir, synthetic.NixConfFiles(size, 1)); err != nil {
					b.Fatal(err)
				}
				args := append(args, "--file", filepath.Join(confDir, "nix.conf"))
				b.ReportAllocs()
				for b.Loop() {
					runCmdExit(b, 1, dir, args...)
				}
			})
		}
	}
}
