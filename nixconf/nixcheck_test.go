package nixconf

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/keyform/keyform/internal/nixtest"
)

// TestCorpusNixCheck runs apply's Nix check on every corpus vector with
// every Nix version: the vector's files go to a directory, apply plans the
// patch, and the machine's Nix must accept the result and read the same
// keys and substituters as keyform, or, for a version the vector says
// rejects it (nixrejects), refuse it: naming the line (nixline) and saying
// the current file is rejected the same way.
func TestCorpusNixCheck(t *testing.T) {
	cases := loadCorpus(t)
	nixtest.EachOnPath(t, func(t *testing.T, n *nixtest.Nix) {
		version := n.MajorMinor()
		for _, c := range cases {
			if c.nonix || strings.HasPrefix(c.name, "fail_") {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				dir := t.TempDir()
				for name, data := range c.files {
					write(t, filepath.Join(dir, name), string(data))
				}
				path := filepath.Join(dir, c.patch)
				data, err := os.ReadFile(path)
				p, err := PlanApply(&ConfFile{Path: path, Real: path, Data: data, Exists: err == nil}, c.want, os.ReadFile)
				if err != nil {
					t.Fatal(err)
				}
				if p.Refused() {
					return // apply never asks Nix about a refused plan
				}
				h := LocalHost()
				check, err := h.CheckWithNix(p)
				if !slices.Contains(c.nixRejects, version) {
					if err != nil {
						t.Fatalf("nix check: %v", err)
					}
					if !check.Ran() || check.Keys != len(p.Effective.TrustedPublicKeys) {
						t.Fatalf("nix check: %+v", check)
					}
					return
				}
				var re *NixRejectError
				if !errors.As(err, &re) {
					t.Fatalf("nix %s accepted the file (%v, %v); the vector says it rejects it", version, check, err)
				}
				name, line, _ := strings.Cut(c.nixLine, ":")
				want := fmt.Sprintf("%s:%s", filepath.Join(dir, name), line)
				if re.At.String() != want || !re.Predates || re.OrigAt.String() != want || re.OrigMsg != re.Msg {
					t.Errorf("rejected at %s (predates %v, at %s: %q); want %s, predates\n%v", re.At, re.Predates, re.OrigAt, re.OrigMsg, want, err)
				}
				_, hint := hintOf(t, err)
				if !strings.HasPrefix(err.Error(), want+": nix ") || !strings.Contains(hint, "predates keyform") {
					t.Errorf("error %q, hint %q", err, hint)
				}
			})
		}
	})
}

// TestAbsIncludes: the copy Nix checks has relative include paths made
// absolute against the real file's directory, and nothing else changed.
func TestAbsIncludes(t *testing.T) {
	in := "include a.conf # site\n!include\t../b.conf\r\ninclude /abs/c.conf\nx = include d\n"
	f, err := Parse("/etc/nix/nix.conf", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := "include /etc/nix/a.conf # site\n!include\t/etc/b.conf\r\ninclude /abs/c.conf\nx = include d\n"
	var got strings.Builder
	if err := writeAbsIncludes(&got, "/etc/nix/nix.conf", f); err != nil || got.String() != want {
		t.Errorf("got  %q, %v\nwant %q", got.String(), err, want)
	}
}

// TestNixMessage: Nix's message without its prefix, colours, warnings
// and help line.
func TestNixMessage(t *testing.T) {
	stderr := "warning: unknown setting 'foo'\n\x1b[31;1merror:\x1b[0m option '\x1b[35;1msandbox\x1b[0m' has invalid value 'maybe'\nTry '/usr/bin/nix --help' for more information.\n"
	if got := nixMessage([]byte(stderr), errors.New("exit status 1")); got != "option 'sandbox' has invalid value 'maybe'" {
		t.Errorf("got %q", got)
	}
	if got := nixMessage(nil, errors.New("signal: killed")); got != "signal: killed" {
		t.Errorf("got %q", got)
	}
}

// TestShownLines: the two lines the check needs, found in "nix config
// show" text output, empty values included, and compared word by word.
func TestShownLines(t *testing.T) {
	out := "substituters = https://a/ https://b\nsubstituters-x = no\ntrusted-public-keys = \ntrusted-users = root\n"
	got, err := shownLines([]byte(out))
	if err != nil || strings.TrimSpace(string(got[0])) != "" || got[0] == nil || strings.TrimSpace(string(got[1])) != "https://a/ https://b" {
		t.Errorf("%q, %v", got, err)
	}
	got, err = shownLines([]byte("trusted-public-keys = a:b c:d"))
	if err != nil || strings.TrimSpace(string(got[0])) != "a:b c:d" || got[1] != nil {
		t.Errorf("%q, %v", got, err)
	}
	if _, err := shownLines([]byte("{\"trusted-public-keys\": {}}")); err == nil {
		t.Error("accepted JSON")
	}
	items := []Item{{Value: "a:b"}, {Value: "c:d"}}
	for line, want := range map[string]bool{"a:b c:d": true, " a:b\tc:d ": true, "a:b": false, "a:b c:d e:f": false, "a:b c:e": false, "": false} {
		if got := sameWords([]byte(line), items); got != want {
			t.Errorf("sameWords(%q) = %v", line, got)
		}
	}
	if !sameWords([]byte(""), nil) || sameWords(nil, nil) {
		t.Error("sameWords: an empty line is an empty list; a missing one is not")
	}
}

// fakeNix is a nix for Host.Output: it reads NIX_CONF_DIR/nix.conf from
// the environment it is given, and answers with respond.
type fakeNix struct {
	// noShowConfig is a Nix that has dropped "nix show-config" (every
	// Nix so far has it; 2.20 and later also have "nix config show").
	noShowConfig bool
	missing      bool
	respond      func(conf string) (out, stderr string, ok bool)

	mu    sync.Mutex
	calls []string
}

func (n *fakeNix) output(argv, env []string) ([]byte, []byte, error) {
	n.mu.Lock()
	n.calls = append(n.calls, strings.Join(argv, " "))
	n.mu.Unlock()
	if n.missing && argv[0] == "nix" {
		return nil, nil, &exec.Error{Name: "nix", Err: exec.ErrNotFound}
	}
	var confDir string
	for _, kv := range env {
		switch name, v, _ := strings.Cut(kv, "="); name {
		case "NIX_CONF_DIR":
			confDir = v
		case "NIX_CONFIG":
			return nil, []byte("error: NIX_CONFIG leaked\n"), errors.New("exit status 1")
		case "NIX_USER_CONF_FILES":
			if b, err := os.ReadFile(v); err != nil || len(b) > 0 {
				return nil, []byte("error: user config not empty\n"), errors.New("exit status 1")
			}
		}
	}
	if strings.Contains(strings.Join(argv, " "), " show-config") && n.noShowConfig {
		return nil, []byte("error: 'show-config' is not a recognised command\nTry 'nix --help' for more information.\n"), errors.New("exit status 1")
	}
	conf, _ := os.ReadFile(filepath.Join(confDir, "nix.conf"))
	out, stderr, ok := n.respond(string(conf))
	if !ok {
		return nil, []byte(stderr), errors.New("exit status 1")
	}
	return []byte(out), []byte(stderr), nil
}

// TestCheckWithNixFake: the check's decisions, with a nix that does what
// each case needs.
func TestCheckWithNixFake(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nix.conf")
	orig := "sandbox = maybe\nmax-jobs = 2\n"
	write(t, path, orig)
	mk := func() *ApplyPlan {
		p, err := PlanApply(&ConfFile{Path: path, Real: path, Data: []byte(orig), Exists: true}, applyWant, os.ReadFile)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	agree := func(conf string) (string, string, bool) {
		p := mk()
		return "max-jobs = 4\n" + shownText(p.Effective) + "trusted-substituters = \n", "warning: unknown setting 'foo'\n", true
	}
	rejectSandbox := func(conf string) (string, string, bool) {
		if strings.Contains(conf, "sandbox = maybe") {
			return "", "error: option 'sandbox' has invalid value 'maybe'\nTry 'nix --help' for more information.\n", false
		}
		return agree(conf)
	}

	t.Run("agrees", func(t *testing.T) {
		for _, dropped := range []bool{false, true} {
			n := &fakeNix{noShowConfig: dropped, respond: agree}
			h := Host{Output: n.output, Environ: func() []string { return []string{"NIX_CONFIG=sandbox = true", "PATH=/bin"} }, TempDir: dir}
			check, err := h.CheckWithNix(mk())
			// One nix run, or two for a Nix without show-config.
			want, runs := "nix show-config", 1
			if dropped {
				want, runs = "nix config show", 2
			}
			if err != nil || check.Command != want || check.Keys != 2 || check.Substituters != 2 || len(n.calls) != runs {
				t.Errorf("show-config dropped %v: %+v, %v (calls %q)", dropped, check, err, n.calls)
			}
			if s := check.Summary(path); s != want+" accepts "+path+" as apply would write it and reads the same 2 trusted public keys and 2 substituters as keyform" {
				t.Errorf("summary %q", s)
			}
		}
	})

	t.Run("not installed", func(t *testing.T) {
		h := Host{Output: (&fakeNix{missing: true}).output, TempDir: dir, NixPaths: []string{"/nonexistent/bin/nix"}}
		check, err := h.CheckWithNix(mk())
		want := "nix is not installed (no nix on PATH or at /nonexistent/bin/nix): " + path + " as apply would write it was checked by keyform's parser only"
		if err != nil || check.Ran() || check.Summary(path) != want {
			t.Errorf("%+v, %v: %q", check, err, check.Summary(path))
		}
	})

	t.Run("not on PATH", func(t *testing.T) {
		// sudo's PATH lacks a multi-user install's profile: its nix is
		// used.
		profileNix := filepath.Join(t.TempDir(), "nix")
		write(t, profileNix, "")
		n := &fakeNix{missing: true, respond: agree}
		h := Host{Output: n.output, TempDir: dir, NixPaths: []string{"/nonexistent/bin/nix", profileNix}}
		check, err := h.CheckWithNix(mk())
		if err != nil || check.Command != profileNix+" show-config" {
			t.Errorf("%+v, %v (calls %q)", check, err, n.calls)
		}
	})

	t.Run("rejects, predates", func(t *testing.T) {
		h := Host{Output: (&fakeNix{respond: rejectSandbox}).output, TempDir: dir}
		_, err := h.CheckWithNix(mk())
		var re *NixRejectError
		if !errors.As(err, &re) {
			t.Fatalf("%v", err)
		}
		msg, hint := hintOf(t, err)
		if want := path + ":1: nix show-config rejects the file as apply would write it: option 'sandbox' has invalid value 'maybe'"; msg != want {
			t.Errorf("got  %q\nwant %q", msg, want)
		}
		if want := "the problem predates keyform: Nix rejects the current file the same way, at " + path + ":1; fix that line, then run keyform apply again (nothing was written)"; hint != want {
			t.Errorf("hint %q\nwant %q", hint, want)
		}
	})

	t.Run("rejects, nothing to change", func(t *testing.T) {
		// The file already has keyform's lines: Nix rejects the current
		// file, and is not asked about it twice.
		cur := mk().New
		p, err := PlanApply(&ConfFile{Path: path, Real: path, Data: cur, Exists: true}, applyWant, os.ReadFile)
		if err != nil || p.Changed() {
			t.Fatalf("%v, changed %v", err, p.Changed())
		}
		n := &fakeNix{respond: rejectSandbox}
		_, err = Host{Output: n.output, TempDir: dir}.CheckWithNix(p)
		var re *NixRejectError
		if !errors.As(err, &re) || !re.Predates || re.OrigAt != re.At || re.At.Line != 1 || len(n.calls) != 2 {
			t.Errorf("%v (%+v), calls %q", err, re, n.calls)
		}
	})

	t.Run("rejects the change", func(t *testing.T) {
		// Nix rejects what keyform added: not the user's problem.
		h := Host{Output: (&fakeNix{respond: func(conf string) (string, string, bool) {
			if strings.Contains(conf, "Managed by keyform") {
				return "", "error: setting 'extra-substituters' has invalid value 'https://cache.acme.example'\n", false
			}
			return agree(conf)
		}}).output, TempDir: dir}
		_, err := h.CheckWithNix(mk())
		var re *NixRejectError
		if !errors.As(err, &re) || re.Predates || re.At.Line != 4 {
			t.Fatalf("%v (%+v)", err, re)
		}
		if _, hint := hintOf(t, err); !strings.Contains(hint, "keyform's change causes this") {
			t.Errorf("hint %q", hint)
		}
	})

	t.Run("nix broken", func(t *testing.T) {
		h := Host{Output: (&fakeNix{respond: func(string) (string, string, bool) {
			return "", "error: cannot open the store\n", false
		}}).output, TempDir: dir}
		_, err := h.CheckWithNix(mk())
		msg, hint := hintOf(t, err)
		if msg != "nix show-config fails even without any configuration: cannot open the store" || !strings.Contains(hint, "--no-nix-check") {
			t.Errorf("%q, hint %q", msg, hint)
		}
	})

	t.Run("disagrees", func(t *testing.T) {
		h := Host{Output: (&fakeNix{respond: func(string) (string, string, bool) {
			return shownText(&Settings{
				TrustedPublicKeys: []Item{{Value: NixOSCacheKey}, {Value: keyOther}},
				Substituters:      []Item{{Value: "https://cache.nixos.org/"}, {Value: "https://cache.acme.example"}},
			}), "", true
		}}).output, TempDir: dir}
		_, err := h.CheckWithNix(mk())
		var de *NixDisagreeError
		if !errors.As(err, &de) || len(de.Diffs) != 1 || de.Diffs[0].Setting != "trusted-public-keys" {
			t.Fatalf("%v", err)
		}
		want := "nix show-config and keyform read " + path + ", as apply would write it, differently:\n" +
			"  trusted-public-keys as nix show-config reads it: " + NixOSCacheKey + " " + keyOther + "\n" +
			"  trusted-public-keys as keyform reads it: " + NixOSCacheKey + " " + keyAcme1
		if msg, _ := hintOf(t, err); msg != want {
			t.Errorf("got\n%s\nwant\n%s", msg, want)
		}
	})

	t.Run("line found by asking", func(t *testing.T) {
		// Two lines set max-jobs; Nix names only the setting.
		orig := "max-jobs = 2\nmax-jobs = lots\n"
		write(t, path, orig)
		p, err := PlanApply(&ConfFile{Path: path, Real: path, Data: []byte(orig), Exists: true}, applyWant, os.ReadFile)
		if err != nil {
			t.Fatal(err)
		}
		n := &fakeNix{respond: func(conf string) (string, string, bool) {
			if strings.Contains(conf, "max-jobs = lots") {
				return "", "error: configuration setting 'max-jobs' should be 'auto' or an integer\n", false
			}
			return shownText(p.Effective), "", true
		}}
		_, err = Host{Output: n.output, TempDir: dir}.CheckWithNix(p)
		var re *NixRejectError
		if !errors.As(err, &re) || re.At.Line != 2 || re.OrigAt.Line != 2 {
			t.Fatalf("%v (%+v) calls %q", err, re, n.calls)
		}
	})

	// The private directory is gone afterwards.
	if left, _ := filepath.Glob(filepath.Join(dir, "keyform-nix-check-*")); len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
}

// FuzzShownLines: reading nix's output never panics, and the words found
// compare equal to themselves as items, whatever the spacing.
func FuzzShownLines(f *testing.F) {
	f.Add([]byte("substituters = https://a/ https://b\ntrusted-public-keys = a:b\n"))
	f.Add([]byte("trusted-public-keys ="))
	f.Add([]byte("trusted-public-keys = \t a:b\r\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		lines, err := shownLines(out)
		if err != nil {
			return
		}
		for _, l := range lines {
			if l == nil {
				continue
			}
			var items []Item
			for _, w := range words(string(l)) {
				items = append(items, Item{Value: w})
			}
			if !sameWords(l, items) {
				t.Errorf("sameWords(%q) is false for its own words %q", l, items)
			}
		}
	})
}
