package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/golden"
	"github.com/keyform/keyform/internal/nixtest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"keyform": func() {
			e := &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Rand: rand.Reader}
			// A seeded reader makes generated keys, and so goldens,
			// reproducible. It exists only in the test binary.
			if seed := os.Getenv("KEYFORM_TEST_SEED"); seed != "" {
				var s [32]byte
				copy(s[:], seed)
				e.Rand = mrand.NewChaCha8(s)
			}
			setTestHooks(e)
			os.Exit(run(os.Args[1:], e))
		},
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/scripts",
		UpdateScripts:       *golden.Update, // go test ./cmd/keyform -update rewrites failing golden sections
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("HOME", e.WorkDir+"/home")
			e.Setenv("XDG_CONFIG_HOME", e.WorkDir+"/home/.config")
			e.Setenv("NO_COLOR", "1")
			e.Setenv("KEYFORM_NOW", "2026-11-25")
			e.Setenv("KEYFORM_TEST_SEED", "keyform")
			// apply: print the Linux restart command with sudo and find
			// no daemon unless a script creates this file.
			e.Setenv("KEYFORM_TEST_OS", "linux")
			e.Setenv("KEYFORM_TEST_EUID", "1000")
			e.Setenv("NIX_DAEMON_SOCKET_PATH", e.WorkDir+"/daemon-socket")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "nix":
				return haveNix()
			case "nix-config-show":
				// "nix config show" exists since Nix 2.20; older Nix
				// has only "nix show-config", which newer Nix answers
				// with a deprecation warning.
				return nixAtLeast("2.20")
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"envsubst":   cmdEnvsubst,
			"unenvsubst": cmdUnenvsubst,
			"mode":       cmdMode,
			"identity":   cmdIdentity,
			"chown":      cmdChown,
			"owner":      cmdOwner,
			"snapshot":   cmdSnapshot,
			"nosecret":   cmdNoSecret,
			"cachegen":   cmdCachegen,
			"serve":      cmdServe,
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

// nixAtLeast reports whether the nix on PATH is version min or newer.
func nixAtLeast(min string) (bool, error) {
	if ok, err := haveNix(); !ok {
		return false, err
	}
	out, err := exec.Command("nix", "--version").Output()
	if err != nil {
		return false, fmt.Errorf("nix --version: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return false, fmt.Errorf("nix --version printed nothing")
	}
	return (&nixtest.Nix{Version: f[len(f)-1]}).AtLeast(min), nil
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

// chown PATH UID GID changes a file's owner (scripts check it with [root]).
func cmdChown(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: chown PATH UID GID")
	}
	uid, err1 := strconv.Atoi(args[1])
	gid, err2 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil {
		ts.Fatalf("usage: chown PATH UID GID")
	}
	ts.Check(os.Chown(ts.MkAbs(args[0]), uid, gid))
}

// owner PATH UID GID checks a file's owner and group.
func cmdOwner(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: owner PATH UID GID")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	uid, gid, _ := atomicfile.Owner(fi)
	if got := fmt.Sprintf("%d %d", uid, gid); got != args[1]+" "+args[2] {
		ts.Fatalf("%s is owned by %s, want %s %s", args[0], got, args[1], args[2])
	}
}

// setTestHooks points e's system (apply's OS-dependent parts) at
// KEYFORM_TEST_* variables, which only the test binary reads:
// KEYFORM_TEST_OS (linux, darwin), KEYFORM_TEST_EUID,
// KEYFORM_TEST_RESTART=print (print restart commands instead of running
// them) and KEYFORM_TEST_APPLY_PAUSE (a duration apply waits between
// reading and writing the file).
func setTestHooks(e *cli.Env) {
	if v := os.Getenv("KEYFORM_TEST_OS"); v != "" {
		e.Sys.GOOS = v
	}
	if v := os.Getenv("KEYFORM_TEST_EUID"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			panic(err)
		}
		e.Sys.Geteuid = func() int { return n }
	}
	if os.Getenv("KEYFORM_TEST_RESTART") == "print" {
		e.Sys.RunCommand = func(e *cli.Env, argv []string) error {
			fmt.Fprintf(e.Stderr, "test: ran %s\n", strings.Join(argv, " "))
			return nil
		}
	}
	if v := os.Getenv("KEYFORM_TEST_APPLY_PAUSE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			panic(err)
		}
		e.Sys.ApplyPause = d
	}
}
