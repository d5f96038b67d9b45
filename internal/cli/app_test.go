package cli

import (
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/keys"
)

// testApp has one plain command, one nested one and a version; the runs
// record what they were given.
type testApp struct {
	App
	ran    []string // positional arguments of the last run
	dir    string   // Env.Dir the last run saw
	dryRun bool
	file   string
	err    error // what the runs return
}

func newTestApp() *testApp {
	a := &testApp{}
	record := func(e *Env, args []string) error {
		a.ran, a.dir = args, e.Dir
		return a.err
	}
	a.App = App{
		Usage: "usage text\n",
		Commands: []*Command{
			{Name: "keygen", Args: "[KEY...]", Short: "make keys", Long: "Makes keys.", Setup: func(fs *flag.FlagSet) RunFunc {
				fs.BoolVar(&a.dryRun, "dry-run", false, "write nothing")
				fs.StringVar(&a.file, "o", "out", "write to `DIR`")
				return record
			}},
			{Name: "keys list", Short: "list keys", Setup: func(*flag.FlagSet) RunFunc { return record }},
			{Name: "keys check", Short: "check a key", Setup: func(*flag.FlagSet) RunFunc { return record }},
		},
		Version: func(e *Env, _ []string) error { fmt.Fprintln(e.Stdout, "keyform test"); return nil },
	}
	return a
}

func (a *testApp) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = a.Run(args, &Env{Stdin: new(bytes.Buffer), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

// Flags and arguments mix in any order, flags take one dash or two, and
// "--" ends the flags.
func TestParseFlags(t *testing.T) {
	for _, c := range []struct {
		args   []string
		ran    []string
		dryRun bool
		file   string
	}{
		{[]string{"keygen", "a", "--dry-run", "b"}, []string{"a", "b"}, true, "out"},
		{[]string{"keygen", "-dry-run", "-o", "x", "a"}, []string{"a"}, true, "x"},
		{[]string{"keygen", "--o=y", "--", "--dry-run", "a"}, []string{"--dry-run", "a"}, false, "y"},
		{[]string{"keygen"}, nil, false, "out"},
	} {
		a := newTestApp()
		if code, _, stderr := a.run(t, c.args...); code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", c.args, code, stderr)
		}
		if fmt.Sprint(a.ran) != fmt.Sprint(c.ran) || a.dryRun != c.dryRun || a.file != c.file {
			t.Errorf("%v: ran %q, dry-run %v, o %q; want %q, %v, %q", c.args, a.ran, a.dryRun, a.file, c.ran, c.dryRun, c.file)
		}
	}
}

// A command's --help (or -h) prints its help on stdout with the flags
// written as the docs write them; help COMMAND does the same.
func TestCommandHelp(t *testing.T) {
	want := "Usage: keyform keygen [KEY...]\n\nmake keys\n\nMakes keys.\n\nFlags:\n" +
		"  --dry-run  write nothing\n" +
		"  -o DIR     write to DIR (default out)\n"
	for _, args := range [][]string{{"keygen", "--help"}, {"keygen", "-h"}, {"help", "keygen"}} {
		a := newTestApp()
		code, stdout, stderr := a.run(t, args...)
		if code != ExitOK || stdout != want || stderr != "" || a.ran != nil {
			t.Errorf("%v: exit %d, ran %v\nstdout:\n%s\nstderr:\n%s", args, code, a.ran, stdout, stderr)
		}
	}
}

// The global help lists every command, sorted, after the usage text; no
// command prints it on stderr with exit 2.
func TestGlobalHelp(t *testing.T) {
	want := "usage text\n  keygen      make keys\n  keys check  check a key\n  keys list   list keys\n"
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		if code, stdout, _ := newTestApp().run(t, args...); code != ExitOK || stdout != want {
			t.Errorf("%v: exit %d\n%s", args, code, stdout)
		}
	}
	if code, stdout, stderr := newTestApp().run(t); code != ExitInvalid || stdout != "" || stderr != want {
		t.Errorf("no command: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if code, stdout, _ := newTestApp().run(t, "--version"); code != ExitOK || stdout != "keyform test\n" {
		t.Errorf("--version: exit %d %q", code, stdout)
	}
}

// Command-line mistakes exit 2 with the mistake and a hint to read the
// help; flag errors name flags with two dashes.
func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `keyform: unknown command "nope"`},
		{[]string{"keys"}, "keyform: keys needs a subcommand: check, list"},
		{[]string{"keys", "nope"}, "keyform: keys needs a subcommand: check, list"},
		{[]string{"--nope"}, "keyform: unknown global flag --nope"},
		{[]string{"-C"}, "keyform: -C needs a directory"},
		{[]string{"keygen", "--nope"}, "keyform: keygen: flag provided but not defined: --nope"},
		{[]string{"keygen", "-o"}, "keyform: keygen: flag needs an argument: -o"},
		{[]string{"keygen", "--dry-run=maybe"}, `keyform: keygen: invalid boolean value "maybe" for --dry-run: parse error`},
		{[]string{"help", "nope"}, `keyform: no command "nope"`},
	} {
		code, stdout, stderr := newTestApp().run(t, c.args...)
		if want := c.want + "\nhint: run \"keyform help\" for usage\n"; code != ExitInvalid || stdout != "" || stderr != want {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s\nwant:\n%s", c.args, code, stdout, stderr, want)
		}
	}
}

// -C makes a directory the policy directory, before or after the
// command and relative to the one before, without changing the process's
// directory or the caller's Env; Path resolves relative paths in it.
func TestChdir(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-C", dir, "keys", "list"}, dir},
		{[]string{"--chdir=" + dir, "keys", "list"}, dir},
		{[]string{"-C", dir, "keys", "list", "-C", "sub"}, sub},
		{[]string{"keys", "list", "--chdir", dir}, dir},
		{[]string{"keys", "list"}, ""},
	} {
		a := newTestApp()
		e := &Env{Stdout: new(bytes.Buffer), Stderr: new(bytes.Buffer)}
		if code := a.Run(c.args, e); code != ExitOK || a.dir != c.want {
			t.Errorf("%v: exit %d, dir %q, want %q", c.args, code, a.dir, c.want)
		}
		if e.Dir != "" {
			t.Errorf("%v changed the caller's Env: Dir = %q", c.args, e.Dir)
		}
		if now, _ := os.Getwd(); now != wd {
			t.Fatalf("%v moved the process from %s to %s", c.args, wd, now)
		}
	}
	e := &Env{Dir: dir}
	if got := e.Path("keys/a.pub"); got != filepath.Join(dir, "keys/a.pub") {
		t.Errorf("Path(relative) = %q", got)
	}
	if got := e.Path("/abs"); got != "/abs" {
		t.Errorf("Path(absolute) = %q", got)
	}
	if got := (&Env{}).Path("x"); got != "x" {
		t.Errorf("Path without -C = %q", got)
	}
	for _, c := range []struct{ arg, want string }{
		{filepath.Join(dir, "nope"), "keyform: -C " + filepath.Join(dir, "nope") + ": no such file or directory\n"},
		{file, "keyform: -C " + file + ": not a directory\n"},
	} {
		if code, _, stderr := newTestApp().run(t, "-C", c.arg, "keys", "list"); code != ExitInvalid || stderr != c.want {
			t.Errorf("-C %s: exit %d\n%s", c.arg, code, stderr)
		}
	}
}

// What a command returns decides the exit status and what is printed.
func TestExit(t *testing.T) {
	for _, c := range []struct {
		err    error
		code   int
		stderr string
	}{
		{nil, ExitOK, ""},
		{ErrDiffers, ExitDiffers, ""},
		{ErrInvalid, ExitInvalid, ""},
		{Differs(errors.New("2 files differ")), ExitDiffers, "keyform: 2 files differ\n"},
		{Differs(hint.Wrap(errors.New("2 files differ"), "run %q", "keyform render")), ExitDiffers, "keyform: 2 files differ\nhint: run \"keyform render\"\n"},
		{errors.New("no key \"x\""), ExitInvalid, "keyform: no key \"x\"\n"},
		{fmt.Errorf("key x: %w", hint.Wrap(errors.New("no file"), "unseal it")), ExitInvalid, "keyform: key x: no file\nhint: unseal it\n"},
		{Usagef("keygen takes %d KEY", 1), ExitInvalid, "keyform: keygen takes 1 KEY\nhint: run \"keyform help\" for usage\n"},
	} {
		a := newTestApp()
		a.err = c.err
		code, stdout, stderr := a.run(t, "keys", "list")
		if code != c.code || stdout != "" || stderr != c.stderr {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", c.err, code, stdout, stderr)
		}
	}
}

// The reporter's lines, each in its place.
func TestReporter(t *testing.T) {
	var stdout, stderr bytes.Buffer
	e := &Env{Stdout: &stdout, Stderr: &stderr}
	e.Printf("wrote %d files", 2)
	e.Warnf("key %s expired", "a")
	e.Notef("skipped %s", "b")
	e.Hintf("rotate it")
	e.Nextf("run %q", "keyform render")
	if err := e.PrintJSON(map[string]any{"ok": true, "keys": []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	want := "keyform: wrote 2 files\nkeyform: warning: key a expired\nkeyform: note: skipped b\nhint: rotate it\nnext: run \"keyform render\"\n"
	if stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", &stderr, want)
	}
	if want := "{\n  \"keys\": [\n    \"a\"\n  ],\n  \"ok\": true\n}\n"; stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", &stdout, want)
	}
	if Plural(1, "key", "keys") != "1 key" || Plural(0, "key", "keys") != "0 keys" {
		t.Error("Plural")
	}
}

// Whatever a command prints, on either stream and even without a final
// line break, a Nix secret key comes out masked.
func TestOutputIsRedacted(t *testing.T) {
	sk, err := keys.Generate("cache.example.org-1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := string(sk.Encode())
	b64 := strings.TrimRight(secret[strings.IndexByte(secret, ':')+1:], "=")
	a := newTestApp()
	a.Commands[1].Setup = func(*flag.FlagSet) RunFunc {
		return func(e *Env, args []string) error {
			fmt.Fprintf(e.Stdout, "out %s", args[0])
			e.Printf("err %s", args[0])
			return fmt.Errorf("bad %s", args[0])
		}
	}
	code, stdout, stderr := a.run(t, "keys", "list", secret)
	if code != ExitInvalid || !strings.HasPrefix(stdout, "out ") || !strings.Contains(stderr, "keyform: bad ") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for i := 0; i+16 <= len(b64); i++ {
		if strings.Contains(stdout+stderr, b64[i:i+16]) {
			t.Fatalf("output holds %q, part of the secret:\n%s%s", b64[i:i+16], stdout, stderr)
		}
	}
}

func TestBashCompletion(t *testing.T) {
	var b bytes.Buffer
	WriteBashCompletion(&b, newTestApp().Commands)
	for _, want := range []string{
		`"") COMPREPLY=($(compgen -W "keygen keys" -- "$cur")) ;;`,
		`keys) COMPREPLY=($(compgen -W "check list" -- "$cur")) ;;`,
		"complete -F _keyform keyform\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, &b)
		}
	}
}
