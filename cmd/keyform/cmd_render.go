package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render"
	"github.com/keyform/keyform/render/flox"
	"github.com/keyform/keyform/schema"
)

func renderCommand() *command {
	return &command{
		name:  "render",
		args:  "[-o DIR] [--prune] [--stdout] [TARGET...]",
		short: "write each target's NixOS, nix-darwin, home-manager or nix.conf file",
		long: `Renders every target of the policy (or the named ones, as kind.label) and
writes one file per target under the output directory: output_dir of the
keyform block, "generated" by default, or -o DIR. A file goes to
DIR/KIND/LABEL.nix (.conf for nixconf targets) unless the target sets output.
Files are written only after every target rendered, each atomically, and a
file that keyform did not generate is never overwritten. Prints one line per
file: created, updated or unchanged.

Files under the output directory that keyform generated earlier but that no
target renders any more are reported as stale; --prune removes them.

--stdout prints one target's file instead of writing it.`,
		setup: func(fs *flag.FlagSet) runFunc {
			var o renderOpts
			fs.StringVar(&o.outDir, "o", "", "write under `DIR` instead of the policy's output_dir")
			fs.BoolVar(&o.prune, "prune", false, "remove stale generated files")
			fs.BoolVar(&o.stdout, "stdout", false, "print the named target's file instead of writing it")
			return func(e *env, args []string) error { return runRender(e, o, args) }
		},
	}
}

type renderOpts struct {
	outDir        string
	prune, stdout bool
}

func runRender(e *env, o renderOpts, args []string) error {
	if o.stdout && (len(args) != 1 || o.prune || o.outDir != "") {
		return usagef("render --stdout takes exactly one TARGET and no other flag")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	r, err := renderPolicy(e, p, o.outDir, args)
	if err != nil {
		return err
	}
	if o.stdout {
		_, err := e.stdout.Write(r.selected[0].Content)
		return err
	}

	if err := r.findStale(e); err != nil {
		return err
	}
	if len(p.Targets) == 0 {
		e.printf("the policy has no targets; nothing to render")
	}

	// Decide everything before writing anything.
	type write struct {
		f      render.File
		status string
		perm   fs.FileMode
	}
	var writes []write
	var foreign []string
	for _, f := range r.selected {
		name := filepath.FromSlash(f.Path)
		old, perm, err := readExisting(e, name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			writes = append(writes, write{f, "created", 0o644})
		case err != nil:
			return err
		case bytes.Equal(old, f.Content):
			writes = append(writes, write{f, "unchanged", perm})
		case len(old) > 0 && !render.IsGenerated(old):
			// An empty file is replaced: it holds nothing to lose, and a
			// crash right after an unsynced write can leave one (below).
			foreign = append(foreign, f.Path)
		default:
			writes = append(writes, write{f, "updated", perm})
		}
	}
	if len(foreign) > 0 {
		return withHint(fmt.Errorf("not overwriting %s: keyform did not generate %s (the first line does not start with %q)",
			strings.Join(foreign, ", "), map[bool]string{true: "it", false: "them"}[len(foreign) == 1], render.Marker),
			"move the file away, or give the target another output")
	}
	for _, w := range writes {
		if w.status != "unchanged" {
			name := e.path(filepath.FromSlash(w.f.Path))
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				return err
			}
			// No fsync: rendered files are a pure function of the policy,
			// which git keeps. The rename keeps each replacement atomic for
			// readers; if the machine crashes before the kernel writes the
			// data back, a file may be old or empty, which "keyform check"
			// reports and running render again repairs. Two fsyncs per
			// file were most of the time of rendering a large policy.
			if err := atomicfile.Write(name, w.f.Content, atomicfile.Options{Perm: w.perm, NoSync: true}); err != nil {
				return err
			}
		}
		fmt.Fprintf(e.stdout, "%s %s\n", w.status, w.f.Path)
	}
	for _, s := range r.stale {
		if !o.prune {
			fmt.Fprintf(e.stdout, "stale %s (no target renders it; --prune removes it)\n", s)
			continue
		}
		if err := os.Remove(e.path(filepath.FromSlash(s))); err != nil {
			return err
		}
		removeEmptyDirs(e, path.Dir(s), r.outDir)
		fmt.Fprintf(e.stdout, "removed %s\n", s)
	}
	return nil
}

// rendered is a policy rendered in memory.
type rendered struct {
	outDir   string        // slash-separated
	all      []render.File // every target
	selected []render.File // the targets named on the command line, or all
	// stale are generated files under outDir that no target renders,
	// sorted; set by findStale.
	stale []string
}

// renderPolicy renders every target and picks the named ones.
func renderPolicy(e *env, p *policy.Policy, outDir string, ids []string) (*rendered, error) {
	if outDir == "" {
		outDir = p.Settings.OutputDir
	}
	opts := render.Options{Source: policySource(e), OutputDir: outDir}
	all, err := render.Files(p, opts, nil)
	if err != nil {
		return nil, err
	}
	// Flox publisher setups are rendered with the targets (issue 6).
	fx, err := flox.Files(p, flox.Options{Source: opts.Source, OutputDir: outDir})
	if err != nil {
		return nil, err
	}
	owner := map[string]string{}
	for _, f := range all {
		owner[strings.ToLower(f.Path)] = f.Target
	}
	for _, f := range fx {
		if t, dup := owner[strings.ToLower(f.Path)]; dup {
			return nil, fmt.Errorf("target %s and the Flox setup of publisher %s both render to %s; give the target another output", t, f.Publisher, f.Path)
		}
		all = append(all, render.File{Target: "publisher." + f.Publisher, Path: f.Path, Content: f.Content})
	}
	selected := all
	if len(ids) > 0 {
		selected, err = render.Files(p, opts, ids)
		var ute *render.UnknownTargetError
		if errors.As(err, &ute) {
			valid := "the policy has no targets"
			if len(ute.Valid) > 0 {
				valid = "the targets are " + strings.Join(ute.Valid, ", ")
			}
			return nil, withHint(err, "%s", valid)
		}
		if err != nil {
			return nil, err
		}
	}
	return &rendered{outDir: filepath.ToSlash(outDir), all: all, selected: selected}, nil
}

// findStale fills in r.stale.
func (r *rendered) findStale(e *env) (err error) {
	r.stale, err = staleFiles(e, r.outDir, r.all)
	return err
}

// readExisting reads a file that render may replace.
func readExisting(e *env, name string) ([]byte, fs.FileMode, error) {
	fi, err := os.Lstat(e.path(name))
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s exists and is not a regular file; keyform writes the target's file there", name)
	}
	b, err := os.ReadFile(e.path(name))
	return b, fi.Mode().Perm(), err
}

// staleFiles lists the regular files under outDir that start with the
// generated-file marker but that no target renders.
func staleFiles(e *env, outDir string, files []render.File) ([]string, error) {
	current := map[string]bool{}
	for _, f := range files {
		current[f.Path] = true
	}
	var stale []string
	root := e.path(filepath.FromSlash(outDir))
	err := filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && name == root {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return fs.SkipDir
		}
		rel, err := filepath.Rel(root, name)
		if err != nil {
			return err
		}
		slash := filepath.ToSlash(filepath.Join(filepath.FromSlash(outDir), rel))
		if !d.Type().IsRegular() || current[slash] {
			return nil
		}
		gen, err := startsWithMarker(name)
		if err != nil {
			return err
		}
		if gen {
			stale = append(stale, slash)
		}
		return nil
	})
	slices.Sort(stale)
	return stale, err
}

func startsWithMarker(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, len(render.Marker))
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	return render.IsGenerated(buf[:n]), nil
}

// removeEmptyDirs removes dir and its parents while they are empty, stopping
// at the output directory itself.
func removeEmptyDirs(e *env, dir, outDir string) {
	for dir != outDir && dir != "." && dir != "/" && strings.HasPrefix(dir, outDir+"/") {
		if os.Remove(e.path(filepath.FromSlash(dir))) != nil {
			return
		}
		dir = path.Dir(dir)
	}
}
