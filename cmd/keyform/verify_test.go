package main

import (
	"strings"
	"testing"

	"github.com/keyform/keyform/policy"
)

// TestVerifyWithoutNix: with no nix on PATH, verify fails (exit 2) and
// points at --config. (A script cannot empty PATH: keyform itself runs
// from it.)
func TestVerifyWithoutNix(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := verifyHere((&env{}).withDefaults(), &policy.Target{Kind: policy.NixConf, Label: "ci"}, "")
	he, ok := err.(hintError)
	if !ok || !strings.Contains(he.Error(), "nix is not on PATH") || !strings.Contains(he.hint, "--config FILE") {
		t.Fatalf("err = %#v", err)
	}
}
