package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/keys"
)

// TestChdirIsAPath: -C makes a directory the policy directory without
// changing the process's working directory, so in-process runs need no
// clean-up and cannot leak into each other.
func TestChdirIsAPath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	policy := "catalog \"a\" {}\n"
	if err := os.WriteFile(filepath.Join(dir, "keyform.hcl"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-C", dir, "validate"}, {"validate", "-C", dir}} {
		var stdout, stderr bytes.Buffer
		e := &cli.Env{Stdin: new(bytes.Buffer), Stdout: &stdout, Stderr: &stderr}
		if code := run(args, e); code != cli.ExitOK {
			t.Fatalf("keyform %v: exit %d\n%s", args, code, &stderr)
		}
		if e.Dir != "" {
			t.Errorf("keyform %v changed the caller's env: dir = %q", args, e.Dir)
		}
		if now, _ := os.Getwd(); now != wd {
			t.Fatalf("keyform %v moved the process from %s to %s", args, wd, now)
		}
	}
}

// TestOutputIsRedacted: whatever a command echoes (an argument in an
// error, a path), a Nix secret key pasted on the command line comes out
// masked, because run sends both streams through redact's Writer.
func TestOutputIsRedacted(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keyform.hcl"), []byte("catalog \"a\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sk, err := keys.Generate("cache.example.org-1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := string(sk.Encode())
	b64 := strings.TrimRight(secret[strings.IndexByte(secret, ':')+1:], "=")
	for _, args := range [][]string{
		{secret},
		{"-C", dir, "keys", "check", secret},
		{"-C", dir, "validate", "-C", secret},
		{"-C", dir, "render", "--stdout", secret[:70]},
	} {
		var stdout, stderr bytes.Buffer
		e := &cli.Env{Stdin: new(bytes.Buffer), Stdout: &stdout, Stderr: &stderr}
		if code := run(args, e); code != cli.ExitInvalid {
			t.Errorf("exit %d, want %d", code, cli.ExitInvalid)
		}
		out := stdout.String() + stderr.String()
		if !strings.Contains(out, "keyform: ") {
			t.Errorf("no error printed:\n%s", out)
		}
		for i := 0; i+16 <= len(b64); i++ {
			if strings.Contains(out, b64[i:i+16]) {
				t.Fatalf("output holds %q, part of the secret:\n%s", b64[i:i+16], out)
			}
		}
	}
}
