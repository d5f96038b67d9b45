package render_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/keyform/keyform/render"
)

const floxPolicy = `key "k" {
  name             = "cache.a.example-1"
  public_key       = "cache.a.example-1:YD4aoux9KZCdnsMKced3iFsxDijjzuEsQ39hCzbWj4Q="
  private_key_path = "/var/lib/keyform/k.key"
}
publisher "ci" {
  keys = [key.k]
  flox = true
}
target "nixos" "a" {
  trust = [key.k]
}
target "nixconf" "b" {
  trust = [key.k]
}
`

// TestAll: everything render writes, targets then Flox setups, rendered
// once; Select picks targets out of it.
func TestAll(t *testing.T) {
	p := load(t, map[string]string{"p.hcl": floxPolicy})
	all, err := render.All(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range all {
		got = append(got, f.Target+" "+f.Path)
	}
	want := []string{
		"nixos.a generated/nixos/a.nix",
		"nixconf.b generated/nixconf/b.conf",
		"publisher.ci generated/flox/ci.sh",
		"publisher.ci generated/flox/ci.toml",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("All:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range all {
		if !render.IsGenerated(f.Content) {
			t.Errorf("%s does not start with the generated-file marker", f.Path)
		}
	}

	picked, err := render.Select(p, all, []string{"nixconf.b"})
	files, _ := render.Files(p, opts, []string{"nixconf.b"})
	if err != nil || len(picked) != 1 || !reflect.DeepEqual(picked, files) {
		t.Errorf("Select(nixconf.b) = %v, %v; want what Files renders for it", paths(picked), err)
	}
	var ute *render.UnknownTargetError
	if _, err := render.Select(p, all, []string{"nixos.nope"}); !errors.As(err, &ute) || ute.ID != "nixos.nope" {
		t.Errorf("Select(nixos.nope) = %v, want an UnknownTargetError", err)
	}
}

// TestAllCollisions: the Flox files take part in the one collision check.
func TestAllCollisions(t *testing.T) {
	for _, tc := range []struct{ name, target, want string }{
		{"same path", `target "nixconf" "c" {
  trust  = [key.k]
  output = "flox/ci.sh"
}`, "target nixconf.c and the Flox setup of publisher ci both render to generated/flox/ci.sh; give the target another output"},
		{"case only", `target "nixconf" "c" {
  trust  = [key.k]
  output = "Flox/CI.toml"
}`, "target nixconf.c and the Flox setup of publisher ci both render to generated/flox/ci.toml; give the target another output"},
		{"file is a directory", `target "nixconf" "c" {
  trust  = [key.k]
  output = "flox"
}`, "target nixconf.c renders to generated/flox, which the Flox setup of publisher ci needs as a directory for generated/flox/ci.sh; give one of them another output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := load(t, map[string]string{"p.hcl": floxPolicy, "c.hcl": tc.target})
			if _, err := render.All(p, render.Options{}); err == nil || err.Error() != tc.want {
				t.Errorf("All: %v\nwant %s", err, tc.want)
			}
			// Files renders targets only: no Flox file to collide with.
			if _, err := render.Files(p, render.Options{}, nil); err != nil {
				t.Errorf("Files: %v", err)
			}
		})
	}
}
