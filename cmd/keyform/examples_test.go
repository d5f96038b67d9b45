package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/keyform/keyform/internal/gitfs"
	"github.com/keyform/keyform/internal/nixtest"
	"github.com/keyform/keyform/render"
	"github.com/keyform/keyform/schema"
)

// TestExamples keeps the shipped examples honest: "keyform check" must pass
// on each, so CI fails when a policy changes without its generated files,
// and every committed generated file is checked with real Nix.
func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob("../../examples/*/keyform.hcl")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if gitfs.FindWorkTree(wd) == "" {
		// Headers name the policy directory relative to the git work tree,
		// so outside a checkout they differ from the committed files.
		t.Skip("not in a git work tree")
	}
	// The examples' keys have real expiry dates; pin "today" so that this
	// test checks drift, not the calendar.
	t.Setenv("KEYFORM_NOW", "2026-11-25")
	t.Setenv("NO_COLOR", "1")
	for _, hcl := range dirs {
		dir := filepath.Dir(hcl)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"-C", dir, "check"}, &env{stdin: bytes.NewReader(nil), stdout: &stdout, stderr: &stderr})
			// run's -C changes the process's working directory.
			if err := os.Chdir(wd); err != nil {
				t.Fatal(err)
			}
			if code != 0 {
				t.Fatalf("keyform -C %s check: exit %d\n%s%s\nRun \"go run ./cmd/keyform -C %s render\" and commit the result.",
					dir, code, stdout.Bytes(), stderr.Bytes(), filepath.ToSlash(dir[len("../../"):]))
			}
			if stderr.Len() > 0 {
				t.Errorf("keyform check printed warnings; examples should be clean:\n%s", stderr.Bytes())
			}

			nixtest.Require(t)
			res := schema.Load(dir, loadOptions(schema.Options{}))
			if res.HasErrors() {
				t.Fatal("policy does not load")
			}
			p := res.Policy
			for _, target := range p.Targets {
				name := filepath.Join(dir, filepath.FromSlash(render.Path(target, p.Settings.OutputDir)))
				content, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				t.Run(target.ID(), func(t *testing.T) {
					nixtest.CheckTarget(t, target, content)
				})
			}
		})
	}
}

// TestReadmeShowsRenderedOutput keeps the README's sample of a rendered
// module identical to what keyform renders for examples/basic.
func TestReadmeShowsRenderedOutput(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const sample = "examples/basic/generated/nixos/build_farm.nix"
	module, err := os.ReadFile("../../" + sample)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, append([]byte("```nix\n"), module...)) {
		t.Errorf("README.md does not show %s as it is rendered now; paste the file into the README", sample)
	}
}
