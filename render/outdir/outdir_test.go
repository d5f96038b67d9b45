package outdir

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

func gen(body string) []byte { return []byte(render.Marker + " test\n" + body) }

func write(t *testing.T, root, name string, data []byte) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o640); err != nil {
		t.Fatal(err)
	}
}

// TestCompareAndWrite: created, updated (keeping the mode), unchanged,
// an empty file replaced, and a file keyform did not generate refused.
func TestCompareAndWrite(t *testing.T) {
	root := t.TempDir()
	write(t, root, "out/old.nix", gen("old\n"))
	write(t, root, "out/same.nix", gen("same\n"))
	write(t, root, "out/empty.nix", nil)
	write(t, root, "out/mine.nix", []byte("{ my own module }\n"))
	files := []render.File{
		{Path: "out/new.nix", Content: gen("new\n")},
		{Path: "out/old.nix", Content: gen("new\n")},
		{Path: "out/same.nix", Content: gen("same\n")},
		{Path: "out/empty.nix", Content: gen("new\n")},
		{Path: "out/mine.nix", Content: gen("new\n")},
	}
	entries, err := Compare(root, files)
	if err != nil {
		t.Fatal(err)
	}
	var got []Status
	for _, e := range entries {
		got = append(got, e.Status)
	}
	if want := []Status{Created, Updated, Unchanged, Updated, Foreign}; !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	if entries[0].Old != nil || string(entries[1].Old) != string(gen("old\n")) {
		t.Error("Old is not the file on disk")
	}
	for _, e := range entries[:4] {
		if err := e.Write(root); err != nil {
			t.Fatal(err)
		}
	}
	if err := entries[4].Write(root); err == nil {
		t.Error("Write overwrote a file keyform did not generate")
	}
	err = CheckForeign(entries)
	if err == nil || err.Error() != `not overwriting out/mine.nix: keyform did not generate it (the first line does not start with "`+render.Marker+`")` || hint.Of(err) == "" {
		t.Errorf("CheckForeign = %v", err)
	}
	if err := CheckForeign(entries[:4]); err != nil {
		t.Errorf("CheckForeign without foreign files = %v", err)
	}
	for _, f := range files[:4] {
		if b, _ := os.ReadFile(filepath.Join(root, f.Path)); string(b) != string(f.Content) {
			t.Errorf("%s holds %q", f.Path, b)
		}
	}
	if fi, _ := os.Stat(filepath.Join(root, "out/old.nix")); fi.Mode().Perm() != 0o640 {
		t.Errorf("updated file has mode %04o, want its old 0640", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Join(root, "out/new.nix")); fi.Mode().Perm() != 0o644 {
		t.Errorf("created file has mode %04o, want 0644", fi.Mode().Perm())
	}

	if err := os.Mkdir(filepath.Join(root, "out/dir.nix"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Compare(root, []render.File{{Path: "out/dir.nix"}}); err == nil {
		t.Error("Compare accepted a directory where a file goes")
	}
}

// TestStaleAndPrune: only generated files nothing renders are stale;
// pruning removes them and the directories they leave empty.
func TestStaleAndPrune(t *testing.T) {
	root := t.TempDir()
	write(t, root, "out/nixos/kept.nix", gen(""))
	write(t, root, "out/nixos/gone.nix", gen(""))
	write(t, root, "out/old/deep/gone.conf", gen(""))
	write(t, root, "out/notes.txt", []byte("mine\n"))
	write(t, root, "out/.git/x", gen(""))
	files := []render.File{{Path: "out/nixos/kept.nix"}}
	stale, err := Stale(root, "out", files)
	if want := []string{"out/nixos/gone.nix", "out/old/deep/gone.conf"}; err != nil || !reflect.DeepEqual(stale, want) {
		t.Fatalf("Stale = %q, %v; want %q", stale, err, want)
	}
	for _, s := range stale {
		if err := Prune(root, "out", s); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]bool{"out/nixos/kept.nix": true, "out/nixos": true, "out/old": false, "out": true, "out/notes.txt": true} {
		if _, err := os.Stat(filepath.Join(root, name)); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", name, err == nil, want)
		}
	}
	if stale, err := Stale(root, "missing", nil); err != nil || stale != nil {
		t.Errorf("Stale of a missing directory = %q, %v", stale, err)
	}
}

// TestDrift: everything render would change, in the order check prints
// it; nothing once rendered.
func TestDrift(t *testing.T) {
	root := t.TempDir()
	write(t, root, "out/old.nix", gen("old\n"))
	write(t, root, "out/same.nix", gen("same\n"))
	write(t, root, "out/gone.nix", gen("gone\n"))
	write(t, root, "out/mine.nix", []byte("{ my own module }\n"))
	files := []render.File{
		{Path: "out/new.nix", Content: gen("new\n")},
		{Path: "out/old.nix", Content: gen("new\n")},
		{Path: "out/same.nix", Content: gen("same\n")},
	}
	drift, err := Drift(root, "out", files)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range drift {
		got = append(got, string(e.Status)+" "+e.Path)
	}
	want := []string{"created out/new.nix", "updated out/old.nix", "stale out/gone.nix"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Drift = %q, want %q", got, want)
	}
	if s := drift[2]; string(s.Old) != string(gen("gone\n")) || s.Content != nil {
		t.Errorf("a stale entry has Old %q, Content %q", s.Old, s.Content)
	}
	for _, e := range drift[:2] {
		if err := e.Write(root); err != nil {
			t.Fatal(err)
		}
	}
	if err := Prune(root, "out", "out/gone.nix"); err != nil {
		t.Fatal(err)
	}
	if drift, err := Drift(root, "out", files); err != nil || len(drift) != 0 {
		t.Errorf("after rendering, Drift = %v, %v", drift, err)
	}
}

// TestTreeUpdate: a tree writes its files and reports each, reports stale
// files or prunes them, writes nothing when a file keyform did not
// generate is in the way, and then has no drift.
func TestTreeUpdate(t *testing.T) {
	root := t.TempDir()
	write(t, root, "out/old.nix", gen("old\n"))
	write(t, root, "out/gone.nix", gen("gone\n"))
	tree := &Tree{Root: root, OutDir: "out", Files: []render.File{
		{Target: "nixos.a", Path: "out/a.nix", Content: gen("a\n")},
		{Target: "nixos.old", Path: "out/old.nix", Content: gen("new\n")},
	}}
	var out strings.Builder
	u, err := tree.NewUpdate(tree.Files[:1])
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Apply(&out, false); err != nil {
		t.Fatal(err)
	}
	if want := "created out/a.nix\nstale out/gone.nix (no target renders it; --prune removes it)\n"; out.String() != want {
		t.Errorf("selected update printed %q, want %q", out.String(), want)
	}
	out.Reset()
	if u, err = tree.NewUpdate(nil); err != nil {
		t.Fatal(err)
	}
	if err := u.Apply(&out, true); err != nil {
		t.Fatal(err)
	}
	if want := "unchanged out/a.nix\nupdated out/old.nix\nremoved out/gone.nix\n"; out.String() != want {
		t.Errorf("full update printed %q, want %q", out.String(), want)
	}
	if drift, err := tree.Drift(); err != nil || len(drift) != 0 {
		t.Errorf("after the update, Drift = %v, %v", drift, err)
	}

	write(t, root, "out/old.nix", []byte("{ my own module }\n"))
	tree.Files[0].Content = gen("a2\n")
	out.Reset()
	if u, err = tree.NewUpdate(nil); err != nil {
		t.Fatal(err)
	}
	if err := u.Apply(&out, false); err == nil || hint.Of(err) == "" || out.Len() > 0 {
		t.Fatalf("Apply over a foreign file = %v, printed %q; want a refusal before anything", err, out.String())
	}
	if data, _ := os.ReadFile(filepath.Join(root, "out/a.nix")); string(data) != string(gen("a\n")) {
		t.Errorf("a.nix was written although the update was refused: %q", data)
	}
}

// TestOutOfDateAndDiffs: check's error names the count and the fix, with
// --prune only when a file is stale; each entry's diff says what is wrong.
func TestOutOfDateAndDiffs(t *testing.T) {
	if err := OutOfDate("out", nil); err != nil {
		t.Errorf("no drift: %v", err)
	}
	updated := Entry{File: render.File{Path: "out/a.nix", Content: gen("new\n")}, Status: Updated, Old: gen("old\n")}
	created := Entry{File: render.File{Path: "out/b.nix", Content: gen("b\n")}, Status: Created}
	stale := Entry{File: render.File{Path: "out/c.nix"}, Status: StaleFile, Old: gen("c\n")}
	err := OutOfDate("out", []Entry{updated})
	if err == nil || err.Error() != "1 generated file is out of date under out" || hint.Of(err) != `run "keyform render"` {
		t.Errorf("OutOfDate(updated) = %v (hint %q)", err, hint.Of(err))
	}
	err = OutOfDate("out", []Entry{updated, stale})
	if err == nil || err.Error() != "2 generated files are out of date under out" || hint.Of(err) != `run "keyform render --prune"` {
		t.Errorf("OutOfDate(updated, stale) = %v (hint %q)", err, hint.Of(err))
	}
	var b strings.Builder
	if err := WriteDiffs(&b, []Entry{updated, created, stale}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--- out/a.nix (on disk)\n+++ out/a.nix (rendered)\n", "--- out/b.nix (missing)\n+++ out/b.nix (rendered)\n",
		"--- out/c.nix (stale)\n+++ out/c.nix (no target renders it)\n", "-old\n+new\n", "+b\n", "-c\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("diffs lack %q:\n%s", want, b.String())
		}
	}
}

// TestRenderOutDir: -o wins over the policy's output_dir, and messages get
// it slash-separated.
func TestRenderOutDir(t *testing.T) {
	p := &policy.Policy{Settings: policy.Settings{OutputDir: "generated"}}
	for outDir, want := range map[string]string{"": "generated", filepath.Join("a", "b"): "a/b"} {
		tree, err := Render("root", p, ".", outDir)
		if err != nil || tree.OutDir != want || tree.Root != "root" || len(tree.Files) != 0 {
			t.Errorf("Render(-o %q) = %+v, %v; want OutDir %q", outDir, tree, err, want)
		}
	}
}
