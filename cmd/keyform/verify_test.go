package main

import (
	"strings"
	"testing"
)

// TestVerifyWithoutNix: with no nix on PATH, verify fails (exit 2) and
// points at --config. (A script cannot empty PATH: keyform itself runs
// from it.)
func TestVerifyWithoutNix(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, _, err := readShownConfig(&env{}, "")
	he, ok := err.(hintError)
	if !ok || !strings.Contains(he.Error(), "nix is not on PATH") || !strings.Contains(he.hint, "--config FILE") {
		t.Fatalf("err = %#v", err)
	}
}
