package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
)

// Exit statuses are part of keyform's interface (CI and hooks branch on
// them); testscript only sees zero or non-zero, so they are pinned here.
func TestExitCodes(t *testing.T) {
	valid := `catalog "a" {}
key "k" {
  catalog    = catalog.a
  public_key = "k:lpfqH+fcLGmdsVTRcsBOIBL6SE+8KYxUuK80GbyfIIQ="
}
target "nixos" "t" {
  trust = [catalog.a]
}
`
	unformatted := "catalog   \"a\" {}\n" + valid[len("catalog \"a\" {}\n"):]
	tests := []struct {
		name   string
		policy string
		args   []string
		want   int
	}{
		{"valid", valid, []string{"validate"}, exitOK},
		{"invalid policy", `target "nixos" "t" { trust = [] }`, []string{"validate"}, exitInvalid},
		{"usage error", valid, []string{"validate", "extra"}, exitInvalid},
		{"unknown command", valid, []string{"nope"}, exitInvalid},
		{"unknown flag", valid, []string{"validate", "--nope"}, exitInvalid},
		{"fmt check differs", unformatted, []string{"fmt", "-check"}, exitDiffers},
		{"fmt check clean", valid, []string{"fmt", "-check"}, exitOK},
		{"fmt broken file", "catalog {", []string{"fmt", "-check"}, exitInvalid},
		{"help", valid, []string{"validate", "--help"}, exitOK},
		{"keygen refusal", valid, []string{"keygen", "k"}, exitInvalid},
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "keyform.hcl"), []byte(tt.policy), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			e := &env{stdin: new(bytes.Buffer), stdout: &stdout, stderr: &stderr, rand: rand.Reader}
			got := run(append([]string{"-C", dir}, tt.args...), e)
			// -C changes the process's directory; put it back for the next case.
			if err := os.Chdir(wd); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("keyform %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, got, tt.want, &stdout, &stderr)
			}
		})
	}
}
