package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/cli"
)

// TestCIExample runs the keyform commands of the shipped GitHub Actions
// workflow and pre-commit hook, exactly as written there, on
// examples/rotation in a scratch repository whose origin/main holds the
// example. Then it takes the example's next step (retire main_2), runs them
// again, and checks that the pull request comment docs/ci.md shows is what
// keyform prints for that change.
func TestCIExample(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	t.Setenv("KEYFORM_NOW", "2026-11-25")
	t.Setenv("NO_COLOR", "1")
	workflow := shellCommands(t, "../../examples/github-actions/keyform.yml")
	hook := shellCommands(t, "../../examples/git-hooks/pre-commit")
	if len(workflow) != 3 || len(hook) != 2 {
		t.Fatalf("found workflow commands %q and hook commands %q; update this test with the examples", workflow, hook)
	}

	repo := filepath.Join(t.TempDir(), "repo")
	const policyDir = "examples/rotation" // as in the repository, so generated headers match
	if err := os.CopyFS(filepath.Join(repo, policyDir), os.DirFS("../../"+policyDir)); err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo, "init", "-q", "-b", "main")
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "commit", "-qm", "example")
	gitRun(t, repo, "init", "-q", "--bare", filepath.Join(repo, "..", "origin.git"))
	gitRun(t, repo, "remote", "add", "origin", filepath.Join(repo, "..", "origin.git"))
	gitRun(t, repo, "push", "-q", "origin", "main")

	runAll := func(step string) string {
		var comment string
		for _, args := range workflow {
			code, stdout, stderr := runAt(t, repo, expand(args, policyDir)...)
			if code != cli.ExitOK {
				t.Fatalf("%s: workflow command keyform %q: exit %d\n%s%s", step, args, code, stdout, stderr)
			}
			if strings.Contains(strings.Join(args, " "), "--format markdown") {
				comment = stdout
			}
		}
		for _, args := range hook {
			if code, stdout, stderr := runAt(t, filepath.Join(repo, policyDir), args...); code != cli.ExitOK {
				t.Fatalf("%s: hook command keyform %q: exit %d\n%s%s", step, args, code, stdout, stderr)
			}
		}
		return comment
	}
	if c := runAll("unchanged example"); !strings.Contains(c, "no changes") {
		t.Errorf("plan of the unchanged example:\n%s", c)
	}

	for _, args := range [][]string{{"retire", "main_2"}, {"render"}} {
		if code, _, stderr := runAt(t, filepath.Join(repo, policyDir), args...); code != cli.ExitOK {
			t.Fatalf("keyform %v: exit %d\n%s", args, code, stderr)
		}
	}
	comment := runAll("after retire main_2")
	doc, err := os.ReadFile("../../docs/ci.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte("\n"+comment)) {
		t.Errorf("docs/ci.md does not show the plan keyform prints for retiring main_2 in examples/rotation; paste it in:\n%s", comment)
	}
}

// shellCommands returns the keyform commands in a workflow or hook file:
// every line (or "run:" value, or part between &&) that starts with
// "keyform", split into arguments, with quotes and output redirections
// removed.
func shellCommands(t *testing.T, name string) [][]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var cmds [][]string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "run: ")
		for _, part := range strings.Split(line, "&&") {
			part, _, _ = strings.Cut(strings.TrimSpace(part), ">")
			fields := strings.Fields(part)
			if len(fields) == 0 || fields[0] != "keyform" {
				continue
			}
			for i, f := range fields {
				fields[i] = strings.Trim(f, `"'`)
			}
			cmds = append(cmds, fields[1:])
		}
	}
	return cmds
}

func expand(args []string, policyDir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "$POLICY_DIR", policyDir)
	}
	return out
}

// runAt runs keyform in-process in dir and restores the working directory.
func runAt(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	e := &cli.Env{Stdin: new(bytes.Buffer), Stdout: &stdout, Stderr: &stderr, Rand: rand.Reader}
	return run(args, e), stdout.String(), stderr.String()
}
