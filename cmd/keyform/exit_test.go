package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/keyform/keyform/internal/cli"
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
		{"valid", valid, []string{"validate"}, cli.ExitOK},
		{"invalid policy", `target "nixos" "t" { trust = [] }`, []string{"validate"}, cli.ExitInvalid},
		{"usage error", valid, []string{"validate", "extra"}, cli.ExitInvalid},
		{"unknown command", valid, []string{"nope"}, cli.ExitInvalid},
		{"unknown flag", valid, []string{"validate", "--nope"}, cli.ExitInvalid},
		{"fmt check differs", unformatted, []string{"fmt", "-check"}, cli.ExitDiffers},
		{"fmt check clean", valid, []string{"fmt", "-check"}, cli.ExitOK},
		{"fmt broken file", "catalog {", []string{"fmt", "-check"}, cli.ExitInvalid},
		{"help", valid, []string{"validate", "--help"}, cli.ExitOK},
		{"keygen refusal", valid, []string{"keygen", "k"}, cli.ExitInvalid},
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
			e := &cli.Env{Stdin: new(bytes.Buffer), Stdout: &stdout, Stderr: &stderr, Rand: rand.Reader}
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
