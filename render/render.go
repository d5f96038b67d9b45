// Package render turns a resolved policy into the files keyform writes, one
// per target: a NixOS or nix-darwin module (render/nixos), a home-manager
// module (render/homemanager) or a nix.conf snippet (render/nixconf).
// Rendering is pure and deterministic: the same policy gives the same bytes,
// whatever the order of its files and blocks. Writing is the caller's job.
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
			valid := make([]string, len(p.Targets))
			for i, t := range p.Targets {
				valid[i] = t.ID()
			}
			return nil, &UnknownTargetError{ID: id, Valid: valid}
		}
		want[id] = true
	}
	outDir := o.OutputDir
	if outDir == "" {
		outDir = p.Settings.OutputDir
	}
	if outDir == "" {
		outDir = policy.DefaultSettings.OutputDir
	}
	// Case-insensitive, because on macOS's default file system two paths
	// that differ only in case are one file.
	owner := map[string]*policy.Target{}
	var todo []*policy.Target
	var paths []string
	for _, t := range p.Targets {
		pth := Path(t, outDir)
		fold := strings.ToLower(pth)
		if prev, dup := owner[fold]; dup {
			prevPath := Path(prev, outDir)
			if prevPath == pth {
				return nil, fmt.Errorf("targets %s and %s both render to %s; give one of them its own output", prev.ID(), t.ID(), pth)
			}
			return nil, fmt.Errorf("targets %s and %s render to %s and %s, which are one file on case-insensitive file systems such as macOS's; give one of them its own output", prev.ID(), t.ID(), prevPath, pth)
		}
		owner[fold] = t
		paths = append(paths, pth)
		if len(want) > 0 && !want[t.ID()] {
			continue
		}
		todo = append(todo, t)
	}
	// A target's file cannot also be a directory holding another's.
	for _, pth := range paths {
		for dir := path.Dir(pth); dir != "." && dir != "/" && dir != path.Dir(dir); dir = path.Dir(dir) {
			if t, ok := owner[strings.ToLower(dir)]; ok {
				return nil, fmt.Errorf("target %s renders to %s, which target %s needs as a directory for %s; give one of them another output", t.ID(), Path(t, outDir), owner[strings.ToLower(pth)].ID(), pth)
			}
		}
	}
	return renderAll(p, o, outDir, todo)
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
