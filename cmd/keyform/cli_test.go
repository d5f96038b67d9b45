package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
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
		e := &env{stdin: new(bytes.Buffer), stdout: &stdout, stderr: &stderr}
		if code := run(args, e); code != exitOK {
			t.Fatalf("keyform %v: exit %d\n%s", args, code, &stderr)
		}
		if e.dir != "" {
			t.Errorf("keyform %v changed the caller's env: dir = %q", args, e.dir)
		}
		if now, _ := os.Getwd(); now != wd {
			t.Fatalf("keyform %v moved the process from %s to %s", args, wd, now)
		}
	}
}
