package nixconf

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/keyform/keyform/internal/golden"
)

// confDir is where corpus files live for the parser: errors and include
// paths read like a real machine's.
const confDir = "/etc/nix"

// Keys of the corpus (public keys only; made with keys.Generate from fixed
// seeds, so they are real ed25519 keys).
const (
	keyAcme0      = "cache.acme.example-0:tdKyhaLmnsvoMHOVxR8E1pEslCu5Pq5awsW/guEX7/s="
	keyAcme1      = "cache.acme.example-1:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2Xc="
	keyAcme2      = "cache.acme.example-2:n2VUGpGG7qPm6IqTJ1ZQ1R/8tjshTU5eFdcy4qWtBuU="
	keyOther      = "other.example.org-1:pKAfQTH90RUPIqsj9A2irdPQ6/7VtUkLhy/sqqzGcVo="
	keyAcme1Clash = "cache.acme.example-1:8mSRKOSMTv1JBVkFOAgTsJ+Ue9c+cDg26nXe8P1hoOQ="
)

// corpusCase is one testdata/corpus/*.txtar vector. Its comment holds
// directives, one a line:
//
//	patch NAME        the file to patch (default nix.conf); nix.conf is always the root Nix loads
//	missing           the file to patch does not exist
//	crlf              input files use CRLF line endings
//	keys K...         active keys (default: cache.acme.example-1)
//	retired K...      retired keys (default: cache.acme.example-0)
//	substituters U... (default: https://cache.acme.example)
//	nofinalnewline    the file to patch does not end in a newline (txtar cannot show that)
//	nonix             do not run real Nix on it
//	nixrejects V...   Nix versions (major.minor) that reject the file for a value keyform's parser accepts
//	nixline NAME:N    the line such a Nix rejects, in the original and the patched file
type corpusCase struct {
	name    string
	file    string
	ar      *txtar.Archive
	files   map[string][]byte // input files by base name
	patch   string
	missing bool
	crlf    bool
	nonix   bool
	nofinal bool
	want    Want

	nixRejects []string
	nixLine    string
}

var keyAlias = map[string]string{
	"acme0": keyAcme0, "acme1": keyAcme1, "acme2": keyAcme2, "other": keyOther, "clash": keyAcme1Clash,
}

func loadCorpus(t testing.TB) []*corpusCase {
	t.Helper()
	names, err := filepath.Glob("testdata/corpus/*.txtar")
	if err != nil || len(names) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var cs []*corpusCase
	for _, name := range names {
		ar, err := txtar.ParseFile(name)
		if err != nil {
			t.Fatal(err)
		}
		c := &corpusCase{
			name: strings.TrimSuffix(filepath.Base(name), ".txtar"), file: name, ar: ar,
			files: map[string][]byte{}, patch: "nix.conf",
			want: Want{Target: "nixconf.ci", Keys: []string{keyAcme1}, Retired: []string{keyAcme0}, Substituters: []string{"https://cache.acme.example"}},
		}
		for _, line := range strings.Split(string(ar.Comment), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || strings.HasPrefix(f[0], "#") {
				continue
			}
			args := f[1:]
			for i, a := range args {
				if k, ok := keyAlias[a]; ok {
					args[i] = k
				}
			}
			switch f[0] {
			case "patch":
				c.patch = args[0]
			case "missing":
				c.missing = true
			case "crlf":
				c.crlf = true
			case "nonix":
				c.nonix = true
			case "nofinalnewline":
				c.nofinal = true
			case "nixrejects":
				c.nixRejects = args
			case "nixline":
				c.nixLine = args[0]
			case "keys":
				c.want.Keys = args
			case "retired":
				c.want.Retired = args
			case "substituters":
				c.want.Substituters = args
			default:
				t.Fatalf("%s: unknown directive %q", name, line)
			}
		}
		for _, f := range ar.Files {
			if strings.HasSuffix(f.Name, ".golden") {
				continue
			}
			data := f.Data
			if c.crlf {
				data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
			}
			c.files[f.Name] = data
		}
		if c.nofinal {
			c.files[c.patch] = bytes.TrimSuffix(c.files[c.patch], []byte("\n"))
		}
		if _, ok := c.files[c.patch]; ok == c.missing {
			t.Fatalf("%s: patch file %s present=%v but missing=%v", name, c.patch, ok, c.missing)
		}
		cs = append(cs, c)
	}
	return cs
}

// reader serves files (by absolute path under confDir), with the patched
// file replaced by override when it is non-nil.
func (c *corpusCase) reader(override []byte) ReadFunc {
	return func(p string) ([]byte, error) {
		if path.Dir(p) != confDir {
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		base := path.Base(p)
		if base == c.patch && override != nil {
			return override, nil
		}
		if b, ok := c.files[base]; ok {
			return b, nil
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
}

// root parses the nix.conf Nix would load first (nil when it is missing).
func (c *corpusCase) root(override []byte) (*File, error) {
	data, err := c.reader(override)(confDir + "/nix.conf")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return Parse(confDir+"/nix.conf", data)
}

func (c *corpusCase) effective(override []byte) (*Settings, error) {
	root, err := c.root(override)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return Evaluate(nil)
	}
	return Evaluate(c.reader(override), root)
}

// run patches the case's file; the patched bytes and the change, or an error.
func (c *corpusCase) run() (*File, []byte, *Change, error) {
	data := c.files[c.patch]
	f, err := Parse(confDir+"/"+c.patch, data)
	if err != nil {
		return nil, nil, nil, err
	}
	g, ch, err := Patch(f, c.want, c.reader(nil))
	if err != nil {
		return nil, nil, nil, err
	}
	return f, g.Bytes(), ch, nil
}

func TestCorpus(t *testing.T) {
	for _, c := range loadCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]string{}
			f, out, ch, err := c.run()
			if strings.HasPrefix(c.name, "fail_") {
				if err == nil {
					t.Fatalf("patch succeeded; want an error")
				}
				got["error.golden"] = err.Error() + "\n"
				c.check(t, got)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := f.String(); s != string(c.files[c.patch]) {
				t.Errorf("round trip changed the file:\n%q\n%q", s, c.files[c.patch])
			}
			shown := out
			if c.crlf {
				for i, l := range strings.SplitAfter(string(out), "\n") {
					if l != "" && !strings.HasSuffix(l, "\r\n") {
						t.Errorf("crlf file: patched line %d %q does not end in CRLF", i+1, l)
					}
				}
				shown = bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
			}
			got["patched.golden"] = string(shown)
			got["report.golden"] = dumpChange(ch)
			before, err := c.effective(nil)
			if err != nil {
				t.Fatal(err)
			}
			after, err := c.effective(out)
			if err != nil {
				t.Fatal(err)
			}
			got["effective.golden"] = "before:\n" + dumpSettings(before) + "after:\n" + dumpSettings(after)
			c.check(t, got)
			checkProperties(t, c.want, c.reader(nil), f, ch, out)
		})
	}
}

// check compares got with the golden sections, or rewrites them.
func (c *corpusCase) check(t *testing.T, got map[string]string) {
	t.Helper()
	changed := false
	for name, g := range got {
		i := slices.IndexFunc(c.ar.Files, func(f txtar.File) bool { return f.Name == name })
		if i < 0 {
			if !*golden.Update {
				t.Errorf("missing golden section %s; got:\n%s", name, g)
				continue
			}
			c.ar.Files = append(c.ar.Files, txtar.File{Name: name})
			i = len(c.ar.Files) - 1
		}
		if string(c.ar.Files[i].Data) == g {
			continue
		}
		if *golden.Update {
			c.ar.Files[i].Data = []byte(g)
			changed = true
			continue
		}
		t.Errorf("%s differs:\n--- want\n%s--- got\n%s", name, c.ar.Files[i].Data, g)
	}
	if changed {
		if err := os.WriteFile(c.file, txtar.Format(c.ar), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func dumpSettings(s *Settings) string {
	var b strings.Builder
	for _, x := range []struct {
		name  string
		items []Item
	}{{"trusted-public-keys", s.TrustedPublicKeys}, {"substituters", s.Substituters}} {
		fmt.Fprintf(&b, "  %s =\n", x.name)
		for _, it := range x.items {
			fmt.Fprintf(&b, "    %s (%s)\n", it.Value, it.Pos)
		}
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	return b.String()
}

func dumpChange(ch *Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "changed: %v\n", ch.Changed())
	for _, it := range ch.AddedKeys {
		fmt.Fprintf(&b, "added key %s at %s\n", it.Value, it.Pos)
	}
	for _, it := range ch.AddedSubstituters {
		fmt.Fprintf(&b, "added substituter %s at %s\n", it.Value, it.Pos)
	}
	for _, it := range ch.RemovedKeys {
		fmt.Fprintf(&b, "removed key %s from %s\n", it.Value, it.Pos)
	}
	for _, m := range ch.Moved {
		fmt.Fprintf(&b, "moved line %d to %d: %s\n", m.From, m.To, m.Why)
	}
	for _, n := range ch.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, c := range ch.Conflicts {
		fmt.Fprintf(&b, "conflict: %s\n", c)
		if c.Hint != "" {
			fmt.Fprintf(&b, "  hint: %s\n", c.Hint)
		}
	}
	return b.String()
}

func TestPatchRejectsBadWant(t *testing.T) {
	f, _ := Parse("/etc/nix/nix.conf", nil)
	for _, w := range []Want{
		{Target: "nixconf.ci", Keys: []string{"a:1 b:2"}},
		{Target: "nixconf.ci", Keys: []string{"a:1#x"}},
		{Target: "nixconf.ci", Keys: []string{""}},
		{Target: "nixconf.ci", Substituters: []string{"https://x\n"}},
		{Target: "nixconf.ci", Keys: []string{keyAcme1}, Retired: []string{keyAcme1}},
		{Target: "bad target)"},
		{Target: ""},
	} {
		if _, _, err := Patch(f, w, nil); err == nil {
			t.Errorf("Patch accepted %+v", w)
		}
	}
	bad, _ := Parse("/etc/nix/nix.conf", []byte("a=b\n"))
	if _, _, err := Patch(bad, Want{Target: "nixconf.ci"}, nil); err == nil {
		t.Error("Patch accepted an illegal file")
	}
}

// TestPatchDoesNotModifyInput: Patch works on a copy.
func TestPatchDoesNotModifyInput(t *testing.T) {
	in := "extra-trusted-public-keys = " + keyAcme0 + "\n"
	f, _ := Parse("/etc/nix/nix.conf", []byte(in))
	if _, _, err := Patch(f, Want{Target: "nixconf.ci", Keys: []string{keyAcme1}, Retired: []string{keyAcme0}}, nil); err != nil {
		t.Fatal(err)
	}
	if f.String() != in || len(f.Lines[0].Values) != 1 {
		t.Errorf("input changed: %q", f.String())
	}
}

// BenchmarkPatch patches the stock NixOS file.
func BenchmarkPatch(b *testing.B) {
	var data []byte
	for _, c := range loadCorpus(b) {
		if c.name == "good_stock_nixos" {
			data = c.files["nix.conf"]
		}
	}
	want := Want{Target: "nixconf.ci", Keys: []string{keyAcme1, keyAcme2}, Retired: []string{keyAcme0}, Substituters: []string{"https://cache.acme.example"}}
	for b.Loop() {
		f, err := Parse("/etc/nix/nix.conf", data)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Patch(f, want, nil); err != nil {
			b.Fatal(err)
		}
	}
}
