// Package render turns a resolved policy into the files keyform writes, one
// per target: a NixOS or nix-darwin module (render/nixos), a home-manager
// module (render/homemanager) or a nix.conf snippet (render/nixconf); and,
// with All, the Flox setup of each publisher (render/flox).
// Rendering is pure and deterministic: the same policy gives the same bytes,
// whatever the order of its files and blocks. Writing is render/outdir's job.
package render

import (
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/flox"
	"github.com/keyform/keyform/render/homemanager"
	"github.com/keyform/keyform/render/nixconf"
	"github.com/keyform/keyform/render/nixos"
	"github.com/keyform/keyform/render/renderer"
)

// Marker starts the first line of every generated file.
const Marker = renderer.Marker

// File is one rendered target.
type File struct {
	// Target is the target's ID, "kind.label".
	Target string
	// Path is where the file belongs, with forward slashes: under the
	// output directory, relative to the policy directory unless the output
	// directory is absolute.
	Path    string
	Content []byte
}

// Options tune Files.
type Options struct {
	// Source names the policy directory in headers (see renderer.Input.Source).
	Source string
	// OutputDir replaces the policy's output_dir when not empty.
	OutputDir string
}

// UnknownTargetError reports a target ID the policy does not declare.
type UnknownTargetError struct {
	ID    string
	Valid []string // every target ID of the policy, in policy order
}

func (e *UnknownTargetError) Error() string {
	return fmt.Sprintf("no target %q in the policy", e.ID)
}

// Hint lists the targets there are.
func (e *UnknownTargetError) Hint() string {
	if len(e.Valid) == 0 {
		return "the policy has no targets"
	}
	return "the targets are " + strings.Join(e.Valid, ", ")
}

// Target renders one target.
func Target(in renderer.Input) ([]byte, error) {
	switch in.Target.Kind {
	case policy.NixOS, policy.Darwin:
		return nixos.Render(in)
	case policy.HomeManager:
		return homemanager.Render(in)
	case policy.NixConf:
		return nixconf.Snippet(in)
	}
	return nil, fmt.Errorf("render %s: unknown target kind %q", in.Target.ID(), in.Target.Kind)
}

// Path is where a target's file goes: outputDir/KIND/LABEL.nix (.conf for
// nixconf), or outputDir/OUTPUT when the target sets output.
func Path(t *policy.Target, outputDir string) string {
	dir := filepath.ToSlash(outputDir)
	if t.Output != "" {
		return path.Join(dir, filepath.ToSlash(t.Output))
	}
	ext := ".nix"
	if t.Kind == policy.NixConf {
		ext = ".conf"
	}
	return path.Join(dir, string(t.Kind), t.Label+ext)
}

// Files renders the targets named by ids ("kind.label"), or every target
// when ids is empty, in policy order. It fails without rendering anything
// when an ID is unknown (*UnknownTargetError) or when two targets of the
// policy, named or not, would write the same file.
func Files(p *policy.Policy, o Options, ids []string) ([]File, error) {
	want := map[string]bool{}
	for _, id := range ids {
		if p.Target(id) == nil {
			return nil, unknownTarget(p, id)
		}
		want[id] = true
	}
	outDir := outputDir(p, o)
	if err := checkPaths(targetPaths(p, outDir)); err != nil {
		return nil, err
	}
	var todo []*policy.Target
	for _, t := range p.Targets {
		if len(want) == 0 || want[t.ID()] {
			todo = append(todo, t)
		}
	}
	return renderAll(p, o, outDir, todo)
}

// All renders everything "keyform render" writes: every target's file, in
// policy order, then the Flox setup of each publisher with flox = true
// (render/flox; File.Target is "publisher.LABEL"). It fails without
// rendering any target when two of these files collide.
func All(p *policy.Policy, o Options) ([]File, error) {
	outDir := outputDir(p, o)
	fx, err := flox.Files(p, flox.Options{Source: o.Source, OutputDir: outDir})
	if err != nil {
		return nil, err
	}
	paths := targetPaths(p, outDir)
	for _, f := range fx {
		paths = append(paths, placed{owner: "the Flox setup of publisher " + f.Publisher, path: f.Path, flox: true})
	}
	if err := checkPaths(paths); err != nil {
		return nil, err
	}
	files, err := renderAll(p, o, outDir, p.Targets)
	if err != nil {
		return nil, err
	}
	for _, f := range fx {
		files = append(files, File{Target: "publisher." + f.Publisher, Path: f.Path, Content: f.Content})
	}
	return files, nil
}

// Select picks the files of the targets named by ids out of files (as All
// returns them), in the order of files, or fails with an
// *UnknownTargetError.
func Select(p *policy.Policy, files []File, ids []string) ([]File, error) {
	want := map[string]bool{}
	for _, id := range ids {
		if p.Target(id) == nil {
			return nil, unknownTarget(p, id)
		}
		want[id] = true
	}
	var picked []File
	for _, f := range files {
		if want[f.Target] {
			picked = append(picked, f)
		}
	}
	return picked, nil
}

func unknownTarget(p *policy.Policy, id string) error {
	valid := make([]string, len(p.Targets))
	for i, t := range p.Targets {
		valid[i] = t.ID()
	}
	return &UnknownTargetError{ID: id, Valid: valid}
}

func outputDir(p *policy.Policy, o Options) string {
	switch {
	case o.OutputDir != "":
		return o.OutputDir
	case p.Settings.OutputDir != "":
		return p.Settings.OutputDir
	}
	return policy.DefaultSettings.OutputDir
}

// placed is a file's path and who renders it, for checkPaths.
type placed struct {
	owner string // "target nixos.a" or "the Flox setup of publisher ci"
	id    string // the target ID, "" for a Flox file
	path  string
	flox  bool
}

func targetPaths(p *policy.Policy, outDir string) []placed {
	paths := make([]placed, len(p.Targets))
	for i, t := range p.Targets {
		paths[i] = placed{owner: "target " + t.ID(), id: t.ID(), path: Path(t, outDir)}
	}
	return paths
}

// checkPaths is the one collision check of rendered files: no two files
// at the same path, case-insensitively, because on macOS's default file
// system two paths that differ only in case are one file; and no file
// where another needs a directory.
func checkPaths(paths []placed) error {
	byFold := map[string]placed{}
	for _, f := range paths {
		fold := strings.ToLower(f.path)
		prev, dup := byFold[fold]
		switch {
		case !dup:
			byFold[fold] = f
		case f.flox && !prev.flox:
			return fmt.Errorf("%s and %s both render to %s; give the target another output", prev.owner, f.owner, f.path)
		case prev.path == f.path && !f.flox:
			return fmt.Errorf("targets %s and %s both render to %s; give one of them its own output", prev.id, f.id, f.path)
		case !f.flox:
			return fmt.Errorf("targets %s and %s render to %s and %s, which are one file on case-insensitive file systems such as macOS's; give one of them its own output", prev.id, f.id, prev.path, f.path)
		default:
			return fmt.Errorf("%s and %s both render to %s", prev.owner, f.owner, f.path)
		}
	}
	for _, f := range paths {
		for dir := path.Dir(f.path); dir != "." && dir != "/" && dir != path.Dir(dir); dir = path.Dir(dir) {
			if d, ok := byFold[strings.ToLower(dir)]; ok {
				return fmt.Errorf("%s renders to %s, which %s needs as a directory for %s; give one of them another output", d.owner, d.path, f.owner, f.path)
			}
		}
	}
	return nil
}

// renderAll renders targets concurrently, one worker per CPU, and returns
// their files in the order given; on failure, the error of the first
// failing target in that order, so the message does not depend on
// scheduling. Each key's lines are rendered once for all targets (renderer.Text).
func renderAll(p *policy.Policy, o Options, outDir string, targets []*policy.Target) ([]File, error) {
	var text *renderer.Text
	if len(targets) > 1 {
		text = renderer.NewText(p.Keys, p.Catalogs)
	}
	files := make([]File, len(targets))
	errs := make([]error, len(targets))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(targets)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(targets) {
					return
				}
				t := targets[i]
				content, err := Target(renderer.Input{Target: t, Source: o.Source, Catalogs: p.Catalogs, Text: text})
				files[i], errs[i] = File{Target: t.ID(), Path: Path(t, outDir), Content: content}, err
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// IsGenerated reports whether content is a file keyform generated: its
// first line starts with Marker.
func IsGenerated(content []byte) bool {
	return strings.HasPrefix(string(content), Marker)
}
