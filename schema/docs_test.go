package schema

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The HCL samples in the README are what users copy: they must be in the
// layout keyform fmt writes.
func TestReadmeHCLIsFormatted(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("no ```hcl blocks in README.md")
	}
	for i, m := range blocks {
		src := m[1]
		out, res := Format(src, "README.md")
		if res != nil {
			var b bytes.Buffer
			res.WriteDiagnostics(&b, 0, false)
			t.Errorf("README.md hcl block %d does not parse:\n%s", i+1, b.String())
			continue
		}
		if !bytes.Equal(out, src) {
			t.Errorf("README.md hcl block %d is not keyform fmt clean; formatted it reads:\n%s", i+1, out)
		}
	}
}

// repoPathRe matches a path into the repository as documentation and
// example comments name them ("docs/ci.md", "examples/rotation/keys/...").
// A path inside another ("audit/testdata/x") is not one of them.
var repoPathRe = regexp.MustCompile(`(?:^|[^A-Za-z0-9_./-])((?:examples|docs|testdata|schema|cmd|nixconf)/[A-Za-z0-9_.+/-]*[A-Za-z0-9_+])`)

// Examples are copied as they are: every file they point to must exist.
// Their policies load (every public_key_file is there), and every
// repository path named in them, the docs or the README exists.
func TestExamplesPointToExistingFiles(t *testing.T) {
	policies, err := filepath.Glob("../examples/*/keyform.hcl")
	if err != nil || len(policies) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, p := range policies {
		dir := filepath.Dir(p)
		res := Load(dir, Options{Now: testNow, Expiry: ExpiryIgnored})
		if res.HasErrors() {
			var b bytes.Buffer
			res.WriteDiagnostics(&b, 0, false)
			t.Errorf("%s does not load:\n%s", dir, b.String())
		}
	}
	var texts []string
	filepath.WalkDir("../examples", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(path, "/generated/") && !strings.HasSuffix(path, ".pub") {
			texts = append(texts, path)
		}
		return err
	})
	docs, _ := filepath.Glob("../docs/*.md")
	texts = append(append(texts, docs...), "../README.md")
	checked := 0
	for _, name := range texts {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range repoPathRe.FindAllStringSubmatch(string(b), -1) {
			ref := m[1]
			if strings.ContainsAny(ref, "*") || strings.Contains(ref, "/NAME") {
				continue
			}
			checked++
			if _, err := os.Stat(filepath.Join("..", ref)); err != nil {
				t.Errorf("%s names %s, which does not exist", strings.TrimPrefix(name, "../"), ref)
			}
		}
	}
	if checked == 0 {
		t.Error("found no repository paths to check")
	}
}
