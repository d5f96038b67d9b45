package schema

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/keyform/keyform/policy"
)

var newKey = KeyBlock{
	Label: "acme_2", Name: "cache.acme.example-2", Catalog: "acme",
	PublicKeyFile: "keys/cache.acme.example-2.pub", PrivateKeyPath: "/var/lib/keyform/cache.acme.example-2.key",
}

const newKeyBlock = `key "acme_2" {
  name             = "cache.acme.example-2"
  catalog          = catalog.acme
  public_key_file  = "keys/cache.acme.example-2.pub"
  private_key_path = "/var/lib/keyform/cache.acme.example-2.key"
}
`

func TestAddKeyAfter(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{{
		name: "between blocks, comments kept",
		src: `# head comment
key "acme_1" {
  name = "cache.acme.example-1" # the first
  # inside
}

# about the target
target "nixos" "a" {
  trust = [catalog.acme]
}
`,
		want: `# head comment
key "acme_1" {
  name = "cache.acme.example-1" # the first
  # inside
}

` + newKeyBlock + `
# about the target
target "nixos" "a" {
  trust = [catalog.acme]
}
`,
	}, {
		name: "comment after the closing brace stays with the old block",
		src:  "key \"acme_1\" {\n  name = \"x\"\n} # old\nkey \"b\" {\n  name = \"y\"\n}\n",
		want: "key \"acme_1\" {\n  name = \"x\"\n} # old\n\n" + newKeyBlock + "key \"b\" {\n  name = \"y\"\n}\n",
	}, {
		name: "last block without final newline",
		src:  "key \"acme_1\" {\n  name = \"x\"\n}",
		want: "key \"acme_1\" {\n  name = \"x\"\n}\n\n" + newKeyBlock,
	}, {
		name: "CRLF file keeps CRLF",
		src:  "key \"acme_1\" {\r\n  name = \"x\"\r\n}\r\n",
		want: "key \"acme_1\" {\r\n  name = \"x\"\r\n}\r\n\r\n" + strings.ReplaceAll(newKeyBlock, "\n", "\r\n"),
	}, {
		name: "unformatted file is not reformatted",
		src:  "key   \"acme_1\" {\n  name=\"x\"\n}\n\ntarget \"nixos\" \"a\" {\n trust=[catalog.acme]\n}\n",
		want: "key   \"acme_1\" {\n  name=\"x\"\n}\n\n" + newKeyBlock + "\ntarget \"nixos\" \"a\" {\n trust=[catalog.acme]\n}\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AddKeyAfter([]byte(tt.src), "keyform.hcl", "acme_1", newKey)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
	if _, err := AddKeyAfter([]byte(`key "a" {}`), "f.hcl", "nope", newKey); err == nil {
		t.Error("adding after a missing key succeeded")
	}
	if _, err := AddKeyAfter([]byte("key \"acme_1\" {}\nkey \"acme_2\" {}\n"), "f.hcl", "acme_1", newKey); err == nil {
		t.Error("adding a duplicate label succeeded")
	}
	if _, err := AddKeyAfter([]byte(`key "acme_1" {`), "f.hcl", "acme_1", newKey); err == nil {
		t.Error("editing a broken file succeeded")
	}
	// A key without a catalog gets no catalog attribute.
	got, err := AddKeyAfter([]byte("key \"acme_1\" {}\n"), "f.hcl", "acme_1", KeyBlock{Label: "b", Name: "b-1", PublicKeyFile: "b.pub"})
	if err != nil || strings.Contains(string(got), "catalog") {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestSetKeyState(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{{
		name: "absent state is added after the last attribute and the block realigned",
		src: `key "acme_1" {
  name    = "cache.acme.example-1" # first
  catalog = catalog.acme
  # expires = "2027-01-01"
}

key "acme_2" {
  name = "cache.acme.example-2"
}
`,
		want: `key "acme_1" {
  name    = "cache.acme.example-1" # first
  catalog = catalog.acme
  state   = "retired"
  # expires = "2027-01-01"
}

key "acme_2" {
  name = "cache.acme.example-2"
}
`,
	}, {
		name: "existing state is replaced, its comment kept",
		src: `key "acme_1" {
  name  = "cache.acme.example-1"
  state = "active" # for now
}
`,
		want: `key "acme_1" {
  name  = "cache.acme.example-1"
  state = "retired" # for now
}
`,
	}, {
		name: "unformatted file is not reformatted",
		src:  "key \"acme_1\" {\n  name=\"x\"\n  state   =   \"active\"\n}\n",
		want: "key \"acme_1\" {\n  name=\"x\"\n  state   =   \"retired\"\n}\n",
	}, {
		name: "unformatted file without state",
		src:  "key \"acme_1\" {\n    name=\"x\"\n}\n",
		want: "key \"acme_1\" {\n    name=\"x\"\n    state = \"retired\"\n}\n",
	}, {
		name: "one-line block",
		src:  "key \"acme_1\" { name = \"x\" }\n",
		want: "key \"acme_1\" {\n  name  = \"x\"\n  state = \"retired\"\n}\n",
	}, {
		name: "CRLF",
		src:  "key \"acme_1\" {\r\n  name = \"x\"\r\n}\r\n",
		want: "key \"acme_1\" {\r\n  name  = \"x\"\r\n  state = \"retired\"\r\n}\r\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetKeyState([]byte(tt.src), "keyform.hcl", "acme_1", policy.Retired)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
	if _, err := SetKeyState([]byte(`key "a" {}`), "f.hcl", "b", policy.Retired); err == nil {
		t.Error("retiring a missing key succeeded")
	}
}

func TestAddTrustRef(t *testing.T) {
	tests := []struct {
		name, src, want string
		ids             []string
	}{{
		name: "inline list",
		src:  "target \"nixos\" \"a\" {\n  trust = [catalog.x, key.acme_1]\n}\n",
		want: "target \"nixos\" \"a\" {\n  trust = [catalog.x, key.acme_1, key.acme_2]\n}\n",
		ids:  []string{"nixos.a"},
	}, {
		name: "one entry per line, trailing comma",
		src:  "target \"nixos\" \"a\" {\n  trust = [\n    key.acme_1, # old\n    catalog.x,\n  ]\n}\n",
		want: "target \"nixos\" \"a\" {\n  trust = [\n    key.acme_1, # old\n    key.acme_2,\n    catalog.x,\n  ]\n}\n",
		ids:  []string{"nixos.a"},
	}, {
		name: "one entry per line, last without comma",
		src:  "target \"nixos\" \"a\" {\n  trust = [\n    catalog.x,\n    key.acme_1\n  ]\n}\n",
		want: "target \"nixos\" \"a\" {\n  trust = [\n    catalog.x,\n    key.acme_1,\n    key.acme_2\n  ]\n}\n",
		ids:  []string{"nixos.a"},
	}, {
		name: "several targets, one already has the new key, one does not list the old",
		src: `target "nixos" "a" {
  trust = [key.acme_1]
}

target "darwin" "b" {
  trust = [key.acme_1, key.acme_2]
}

target "nixconf" "c" {
  trust = [catalog.acme]
}

target "home_manager" "d" {
  trust = [
    key.acme_1,
  ]
}
`,
		want: `target "nixos" "a" {
  trust = [key.acme_1, key.acme_2]
}

target "darwin" "b" {
  trust = [key.acme_1, key.acme_2]
}

target "nixconf" "c" {
  trust = [catalog.acme]
}

target "home_manager" "d" {
  trust = [
    key.acme_1,
    key.acme_2,
  ]
}
`,
		ids: []string{"nixos.a", "home_manager.d"},
	}, {
		name: "no target lists the key",
		src:  "target \"nixos\" \"a\" {\n  trust = [catalog.acme, key.acme_10]\n}\n",
		want: "target \"nixos\" \"a\" {\n  trust = [catalog.acme, key.acme_10]\n}\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ids, err := AddTrustRef([]byte(tt.src), "keyform.hcl", "acme_1", "acme_2")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("changed targets %v, want %v", ids, tt.ids)
			}
		})
	}
}

// Edits of canonical files stay canonical, so "keyform fmt -check" in a
// pre-commit hook keeps passing after rotate and retire.
func TestEditsStayCanonical(t *testing.T) {
	src := []byte(`catalog "acme" {}

key "acme_1" {
  name    = "cache.acme.example-1"
  catalog = catalog.acme
}

target "nixos" "a" {
  trust = [
    catalog.acme,
    key.acme_1,
  ]
}
`)
	out, err := AddKeyAfter(src, "f.hcl", "acme_1", newKey)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = AddTrustRef(out, "f.hcl", "acme_1", "acme_2")
	if err != nil {
		t.Fatal(err)
	}
	out, err = SetKeyState(out, "f.hcl", "acme_1", policy.Retired)
	if err != nil {
		t.Fatal(err)
	}
	if f := hclwrite.Format(out); string(f) != string(out) {
		t.Errorf("edited file is not canonical:\n%s\nformatted:\n%s", out, f)
	}
}

func TestSuccessors(t *testing.T) {
	for in, want := range map[string]string{
		"acme_1": "acme_2", "acme_2026": "acme_2027", "k09": "k10", "acme": "acme_2", "acme-9": "acme-10",
		"x_99999999999999999999999": "x_99999999999999999999999_2", "_1": "_2",
	} {
		if got := SuccessorLabel(in); got != want {
			t.Errorf("SuccessorLabel(%q) = %q, want %q", in, got, want)
		}
		if !identRe.MatchString(SuccessorLabel(in)) {
			t.Errorf("SuccessorLabel(%q) = %q is not a valid label", in, SuccessorLabel(in))
		}
	}
	for in, want := range map[string]string{
		"cache.acme.example-1": "cache.acme.example-2", "cache.acme.example": "cache.acme.example-2",
		"cache-09": "cache-09-2", "main": "main-2", "cache-2026": "cache-2027",
	} {
		if got := SuccessorName(in); got != want {
			t.Errorf("SuccessorName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzEdit feeds arbitrary sources to the edit functions: they must either
// refuse or return HCL that parses, and never panic. The seeds are whole
// policies, so give the minimizer little time or it takes the whole run:
// go test ./schema -fuzz FuzzEdit -fuzztime 30s -fuzzminimizetime 1s
func FuzzEdit(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.txtar")
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if strings.HasSuffix(file.Name, ".hcl") {
				f.Add(file.Data, "acme_1")
			}
		}
	}
	f.Add([]byte("key \"acme_1\" { name = \"x\" }\ntarget \"nixos\" \"a\" {\n  trust = [\n    key.acme_1 // c\n  ]\n}\n"), "acme_1")
	f.Fuzz(func(t *testing.T, src []byte, label string) {
		check := func(what string, out []byte, err error) {
			if err != nil {
				return
			}
			if _, perr := parseSyntax(out, "f.hcl"); perr != nil {
				t.Fatalf("%s returned invalid HCL for %q:\n%s", what, src, out)
			}
		}
		out, err := SetKeyState(src, "f.hcl", label, policy.Retired)
		check("SetKeyState", out, err)
		out, err = AddKeyAfter(src, "f.hcl", label, newKey)
		check("AddKeyAfter", out, err)
		out, _, err = AddTrustRef(src, "f.hcl", label, "acme_2")
		check("AddTrustRef", out, err)
	})
}
