package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/gitfs"
	"github.com/keyform/keyform/internal/golden"
	"github.com/keyform/keyform/internal/nixtest"
	"github.com/keyform/keyform/render"
	"github.com/keyform/keyform/schema"
)

// TestExamples keeps the shipped examples honest: "keyform check" must pass
// on each, so CI fails when a policy changes without its generated files,
// and every committed generated file is checked with real Nix. With -update
// it renders them first.
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
	keyform := func(t *testing.T, args ...string) (code int, stdout, stderr *bytes.Buffer) {
		stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
		code = run(args, &cli.Env{Stdin: bytes.NewReader(nil), Stdout: stdout, Stderr: stderr})
		// run's -C changes the process's working directory.
		if err := os.Chdir(wd); err != nil {
			t.Fatal(err)
		}
		return code, stdout, stderr
	}
	for _, hcl := range dirs {
		dir := filepath.Dir(hcl)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if *golden.Update {
				if code, stdout, stderr := keyform(t, "-C", dir, "render", "--prune"); code != 0 {
					t.Fatalf("keyform -C %s render --prune: exit %d\n%s%s", dir, code, stdout.Bytes(), stderr.Bytes())
				}
			}
			code, stdout, stderr := keyform(t, "-C", dir, "check")
			if code != 0 {
				t.Fatalf("keyform -C %s check: exit %d\n%s%s\nRun \"go test ./cmd/keyform -update\" (it renders the examples) and commit the result.",
					dir, code, stdout.Bytes(), stderr.Bytes())
			}
			if stderr.Len() > 0 {
				t.Errorf("keyform check printed warnings; examples should be clean:\n%s", stderr.Bytes())
			}

			nixtest.Require(t)
			res := schema.Load(dir, loadOptions(&cli.Env{Now: func() time.Time { return time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC) }}, schema.Options{})) // KEYFORM_NOW above
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
// module identical to what keyform renders for examples/basic (TestExamples
// renders it first with -update, which then rewrites the sample too).
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
	if bytes.Contains(readme, append([]byte("```nix\n"), module...)) {
		return
	}
	if !*golden.Update {
		t.Fatalf("README.md does not show %s as it is rendered now; go test ./cmd/keyform -update rewrites the sample", sample)
	}
	readme, err = replaceSample(readme, sample, module)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("../../README.md", readme, 0o644); err != nil {
		t.Fatal(err)
	}
}

// replaceSample replaces the body of the ```nix block that follows the
// line naming the file sample ("`examples/...`:" and a blank line).
func replaceSample(readme []byte, sample string, content []byte) ([]byte, error) {
	open := "`" + sample + "`:\n\n```nix\n"
	i := bytes.Index(readme, []byte(open))
	if i < 0 {
		return nil, fmt.Errorf("README.md has no %q followed by a ```nix block to rewrite", "`"+sample+"`:")
	}
	body := i + len(open)
	end := bytes.Index(readme[body:], []byte("\n```\n"))
	if end < 0 {
		return nil, fmt.Errorf("README.md: the ```nix block after %s does not end", sample)
	}
	end += body + 1 // the closing fence
	if !bytes.HasSuffix(content, []byte("\n")) {
		return nil, fmt.Errorf("%s does not end in a newline", sample)
	}
	return slices.Concat(readme[:body], content, readme[end:]), nil
}

func TestReplaceSample(t *testing.T) {
	readme := []byte("intro\n\n`a.nix`:\n\n```nix\nold\nlines\n```\n\nafter\n```nix\nother\n```\n")
	got, err := replaceSample(readme, "a.nix", []byte("{ new }\n"))
	if want := "intro\n\n`a.nix`:\n\n```nix\n{ new }\n```\n\nafter\n```nix\nother\n```\n"; err != nil || string(got) != want {
		t.Errorf("replaceSample = %q, %v; want %q", got, err, want)
	}
	if _, err := replaceSample(readme, "b.nix", []byte("x\n")); err == nil {
		t.Error("replaced the sample of a file the README does not name")
	}
}
