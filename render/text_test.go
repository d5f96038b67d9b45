package render_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/keyform/keyform/internal/synthetic"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render"
	"github.com/keyform/keyform/render/renderer"
)

// TestFilesMatchesTarget: Files renders every target concurrently with
// each key's lines cached (synthetic.Text); the bytes must be those of rendering
// each target on its own without the cache.
func TestFilesMatchesTarget(t *testing.T) {
	files, err := synthetic.Files(synthetic.Medium)
	if err != nil {
		t.Fatal(err)
	}
	src := map[string]string{}
	for name, data := range files {
		src[name] = string(data)
	}
	for name, p := range map[string]*policy.Policy{"blocks": loadBlocks(t, blocks), "generated": load(t, src)} {
		got, err := render.Files(p, opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(p.Targets) {
			t.Fatalf("%s: %d files for %d targets", name, len(got), len(p.Targets))
		}
		for i, tg := range p.Targets {
			want, err := render.Target(renderer.Input{Target: tg, Source: opts.Source, Catalogs: p.Catalogs})
			if err != nil {
				t.Fatal(err)
			}
			if got[i].Target != tg.ID() || !bytes.Equal(got[i].Content, want) {
				t.Errorf("%s: file %d is %s:\n%s\nwant %s:\n%s", name, i, got[i].Target, got[i].Content, tg.ID(), want)
			}
		}
	}
}

// TestTextHostile: the cached lines of hostile keys are escaped exactly as
// the uncached ones, and keys in an unsorted slice (a policy not built by
// schema) come out sorted either way.
func TestTextHostile(t *testing.T) {
	for _, kind := range policy.Kinds {
		for _, s := range hostile {
			target, cats := hostileTarget(kind, s, false, false)
			extra := &policy.Key{Label: "a", Name: "a.example-1", State: policy.Active, PublicKey: "a.example-1:YSZbft7eBuRS8iIuzUP3ThNlm7qL6ZiSHdrfpDfXpGk="}
			target.Keys = append(target.Keys, extra) // sorts first: no catalog
			keys := slices.Concat(target.Keys, target.Retired)
			plain, err := render.Target(renderer.Input{Target: target, Source: hostileSource, Catalogs: cats})
			if err != nil {
				t.Fatal(err)
			}
			cached, err := render.Target(renderer.Input{Target: target, Source: hostileSource, Catalogs: cats, Text: renderer.NewText(keys, cats)})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(plain, cached) {
				t.Errorf("%s %q: cached:\n%s\nuncached:\n%s", kind, s, cached, plain)
			}
			if i, j := bytes.Index(plain, []byte("\"a.example-1:")), bytes.Index(plain, []byte("\"plain.example-1:")); kind != policy.NixConf && (i < 0 || j < 0 || i > j) {
				t.Errorf("%s %q: keys not in render order:\n%s", kind, s, plain)
			}
		}
	}
}
