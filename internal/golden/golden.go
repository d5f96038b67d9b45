// Package golden gives every test package of keyform one -update flag, so
// that one command rewrites every golden file, the rendered examples and
// the README's sample of them:
//
//	go test ./... -update
//
// "go test ./..." hands the flag to every test binary, and a binary that
// does not define it fails; so every package with tests imports this one,
// even without goldens of its own (TestEveryTestPackageAcceptsUpdate
// checks).
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update is the -update flag: rewrite goldens instead of comparing them.
var Update = flag.Bool("update", false, "rewrite golden files, the rendered examples and the README sample instead of comparing them")

// File compares got with the golden file at path, or with -update writes
// got there (creating its directory). Review the diff before committing.
func File(t testing.TB, path string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(path)
	if bytes.Equal(got, want) && err == nil {
		return
	}
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s--- want\n%s", path, got, want)
}
