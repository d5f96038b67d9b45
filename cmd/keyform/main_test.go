package main

import (
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// Run "go test ./cmd/keyform -update" to rewrite failing golden sections of
// the scripts in testdata/scripts; review the diff before committing.
var update = flag.Bool("update", false, "rewrite golden files in testdata/scripts")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"keyform": func() {
			e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, rand: rand.Reader}
			// A seeded reader makes generated keys, and so goldens,
			// reproducible. It exists only in the test binary.
			if seed := os.Getenv("KEYFORM_TEST_SEED"); seed != "" {
				var s [32]byte
				copy(s[:], seed)
				e.rand = mrand.NewChaCha8(s)
			}
			os.Exit(run(os.Args[1:], e))
		},
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/scripts",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("HOME", e.WorkDir+"/home")
			e.Setenv("XDG_CONFIG_HOME", e.WorkDir+"/home/.config")
			e.Setenv("NO_COLOR", "1")
			e.Setenv("KEYFORM_NOW", "2026-11-25")
			e.Setenv("KEYFORM_TEST_SEED", "keyform")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "nix":
				return haveNix()
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"envsubst":   cmdEnvsubst,
			"unenvsubst": cmdUnenvsubst,
			"mode":       cmdMode,
		},
	})
}

// haveNix reports whether the real-Nix steps can run. Under
// KEYFORM_REQUIRE_NIX=1 (CI) a missing nix is a failure, not a skip.
func haveNix() (bool, error) {
	_, err := exec.LookPath("nix")
	if err != nil && os.Getenv("KEYFORM_REQUIRE_NIX") == "1" {
		return false, fmt.Errorf("KEYFORM_REQUIRE_NIX=1 but nix is not on PATH")
	}
	return err == nil, nil
}

// envsubst FILE... replaces $WORK in the named files with the script's work
// directory, so policies can hold the absolute private key paths keyform
// requires.
func cmdEnvsubst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: envsubst FILE...")
	}
	for _, name := range args {
		b, err := os.ReadFile(ts.MkAbs(name))
		ts.Check(err)
		b = bytes.ReplaceAll(b, []byte("$WORK"), []byte(ts.Getenv("WORK")))
		ts.Check(os.WriteFile(ts.MkAbs(name), b, 0o644))
	}
}

// unenvsubst FILE... is envsubst's inverse: it replaces the script's work
// directory with the literal $WORK, so that output naming private key paths
// can be compared with a golden that -update can rewrite:
//
//	exec keyform plan --format json
//	cp stdout plan.out
//	unenvsubst plan.out
//	cmp plan.out $WORK/plan.json
func cmdUnenvsubst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: unenvsubst FILE...")
	}
	for _, name := range args {
		b, err := os.ReadFile(ts.MkAbs(name))
		ts.Check(err)
		b = bytes.ReplaceAll(b, []byte(ts.Getenv("WORK")), []byte("$WORK"))
		ts.Check(os.WriteFile(ts.MkAbs(name), b, 0o644))
	}
}

// mode PATH PERM checks a file's permission bits, e.g. "mode key 0600".
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode PATH PERM")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	got := fmt.Sprintf("%04o", fi.Mode().Perm())
	if (got == args[1]) == neg {
		ts.Fatalf("%s has mode %s, want %s%s", args[0], got, map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}
