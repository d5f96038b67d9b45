package outdir

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render"
)

// Tree is everything a policy renders (render.All) placed under its
// output directory: what render writes, check compares and plan warns
// about.
type Tree struct {
	// Root is the policy directory that relative paths are under, "" for
	// the working directory.
	Root string
	// OutDir is the output directory, slash-separated, for messages.
	OutDir string
	Files  []render.File
}

// Render renders p under outDir, or the policy's output_dir when outDir is
// "". source names the policy directory in generated headers.
func Render(root string, p *policy.Policy, source, outDir string) (*Tree, error) {
	if outDir == "" {
		outDir = p.Settings.OutputDir
	}
	files, err := render.All(p, render.Options{Source: source, OutputDir: outDir})
	return &Tree{Root: root, OutDir: filepath.ToSlash(outDir), Files: files}, err
}

// Drift is Drift for the tree's files.
func (t *Tree) Drift() ([]Entry, error) { return Drift(t.Root, t.OutDir, t.Files) }

// OutOfDate is the error for drift under outDir, with the command that
// fixes it ("keyform render", with --prune when a file is stale), or nil
// when there is no drift.
func OutOfDate(outDir string, drift []Entry) error {
	if len(drift) == 0 {
		return nil
	}
	fix := `run "keyform render"`
	for _, f := range drift {
		if f.Status == StaleFile {
			fix = `run "keyform render --prune"`
		}
	}
	return hint.Wrap(fmt.Errorf("%s out of date under %s", plural(len(drift), "generated file is", "generated files are"), outDir), "%s", fix)
}

// WriteDiffs writes a unified diff for each entry of drift, labelled with
// what is wrong: missing, stale or out of date.
func WriteDiffs(w io.Writer, drift []Entry) error {
	for _, f := range drift {
		var d []byte
		switch f.Status {
		case Created:
			d = diff.Diff(f.Path+" (missing)", nil, f.Path+" (rendered)", f.Content)
		case StaleFile:
			d = diff.Diff(f.Path+" (stale)", f.Old, f.Path+" (no target renders it)", nil)
		default:
			d = diff.Diff(f.Path+" (on disk)", f.Old, f.Path+" (rendered)", f.Content)
		}
		if _, err := w.Write(d); err != nil {
			return err
		}
	}
	return nil
}

// Update writes a tree, or some of its files.
type Update struct {
	tree     *Tree
	selected []render.File
	stale    []string
}

// NewUpdate prepares writing the selected files (all of the tree's when
// nil), finding the tree's stale files first.
func (t *Tree) NewUpdate(selected []render.File) (*Update, error) {
	if selected == nil {
		selected = t.Files
	}
	stale, err := Stale(t.Root, t.OutDir, t.Files)
	if err != nil {
		return nil, err
	}
	return &Update{tree: t, selected: selected, stale: stale}, nil
}

// Apply decides everything before writing anything (a file keyform did
// not generate in the way stops it whole), then writes the files and
// prints a line per file on w (created, updated or unchanged), then one
// per stale file: removed with prune, else reported.
func (u *Update) Apply(w io.Writer, prune bool) error {
	entries, err := Compare(u.tree.Root, u.selected)
	if err != nil {
		return err
	}
	if err := CheckForeign(entries); err != nil {
		return err
	}
	for _, e := range entries {
		if err := e.Write(u.tree.Root); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s %s\n", e.Status, e.Path)
	}
	for _, s := range u.stale {
		if !prune {
			fmt.Fprintf(w, "stale %s (no target renders it; --prune removes it)\n", s)
			continue
		}
		if err := Prune(u.tree.Root, u.tree.OutDir, s); err != nil {
			return err
		}
		fmt.Fprintf(w, "removed %s\n", s)
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
