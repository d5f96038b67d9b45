package nixconf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/policy"
)

const (
	applyKey1 = "cache.acme.example-1:2Txc14/UyKZHnKC5xh7+6iUKbTSXt1zo0Hi1xaeA2Xc="
	applyKey0 = "cache.acme.example-0:tdKyhaLmnsvoMHOVxR8E1pEslCu5Pq5awsW/guEX7/s="
)

func applyTarget() *policy.Target {
	return &policy.Target{Kind: policy.NixConf, Label: "ci",
		Keys:         []*policy.Key{{Label: "acme_1", PublicKey: applyKey1}},
		Retired:      []*policy.Key{{Label: "acme_0", PublicKey: applyKey0}},
		Substituters: []string{"https://cache.acme.example"}}
}

func TestApplyWant(t *testing.T) {
	want, err := ApplyWant(applyTarget())
	if err != nil || want.Target != "nixconf.ci" || want.Labels[applyKey0] != "acme_0" || len(want.Keys) != 1 || len(want.Retired) != 1 {
		t.Fatalf("ApplyWant = %+v, %v", want, err)
	}
	nixos := applyTarget()
	nixos.Kind = policy.NixOS
	if _, err := ApplyWant(nixos); err == nil || !strings.HasPrefix(err.Error(), "nixos.ci is a nixos target; keyform apply only edits nix.conf") || !strings.Contains(hint.Of(err), "nixos-rebuild") {
		t.Errorf("nixos target: %v (%s)", err, hint.Of(err))
	}
	bad := applyTarget()
	bad.Retired[0].PublicKey = "cache.acme.example-0:xxxx"
	if _, err := ApplyWant(bad); err == nil || !strings.HasPrefix(err.Error(), "key acme_0: ") {
		t.Errorf("malformed key: %v", err)
	}
}

// Apply writes the patch, reports it and says how to restart the daemon;
// a second run changes nothing; a dry run only shows the diff.
func TestHostApply(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nix.conf")
	write(t, path, "keep-outputs = true\ntrusted-public-keys = "+applyKey0+"\n")
	h := Host{GOOS: "linux", EUID: 1000, StoreDir: "/nix/store", DaemonSocket: filepath.Join(dir, "no-daemon")}
	want, _ := ApplyWant(applyTarget())
	o := ApplyOptions{NoNixCheck: true}

	var out bytes.Buffer
	var rep report.Log
	err := h.Apply(&out, &rep, want, path, ApplyOptions{NoNixCheck: true, DryRun: true})
	if err != ErrWouldChange || !strings.Contains(out.String(), "\n--- "+path+"\n+++ "+path+" (keyform apply)\n") {
		t.Fatalf("dry run: %v\n%s", err, &out)
	}
	if b, _ := os.ReadFile(path); !strings.HasPrefix(string(b), "keep-outputs = true\ntrusted-public-keys = "+applyKey0) {
		t.Fatalf("dry run wrote the file:\n%s", b)
	}

	out.Reset()
	if err := h.Apply(&out, &rep, want, path, o); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"patched " + path + " for nixconf.ci:\n",
		"  + key " + applyKey1 + " (acme_1, line ",
		"  - key " + applyKey0 + " (acme_0, retired; was line 2)\n",
		"single-user install (no Nix daemon at " + h.DaemonSocket + "): no restart needed",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("no %q in\n%s", line, &out)
		}
	}
	out.Reset()
	if err := h.Apply(&out, &rep, want, path, o); err != nil || out.String() != path+" already gives nixconf.ci what the policy says; no change\n" {
		t.Errorf("second run: %v\n%s", err, &out)
	}
	if len(rep) != 0 {
		t.Errorf("told %q", rep)
	}

	missing := filepath.Join(dir, "sub", "new.conf")
	err = h.Apply(&out, &rep, want, missing, o)
	if err == nil || err.Error() != missing+" does not exist" || !strings.Contains(hint.Of(err), "add --create") {
		t.Errorf("missing file: %v", err)
	}
	out.Reset()
	if err := h.Apply(&out, &rep, want, missing, ApplyOptions{NoNixCheck: true, Create: true}); err != nil || !strings.HasPrefix(out.String(), "created "+missing) {
		t.Errorf("--create: %v\n%s", err, &out)
	}
}

// A patch that cannot give the target its trust is refused, the reasons
// told, and nothing is written; a symlink is followed and said.
func TestHostApplyRefusesAndFollows(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.conf")
	// Another key under the policy key's name comes first: Nix would use it.
	clash := "trusted-public-keys = cache.acme.example-1:8mSRKOSMTv1JBVkFOAgTsJ+Ue9c+cDg26nXe8P1hoOQ=\n"
	write(t, real, clash)
	link := filepath.Join(dir, "nix.conf")
	symlink(t, real, link)
	want, _ := ApplyWant(applyTarget())
	var rep report.Log
	err := Host{StoreDir: "/nix/store"}.Apply(new(bytes.Buffer), &rep, want, link, ApplyOptions{NoNixCheck: true})
	if err != ErrRefused || len(rep) < 3 || rep[0] != link+" is a symlink to "+real+"; editing "+real || rep[len(rep)-1] != link+" not changed: it would not give nixconf.ci the trust the policy says" {
		t.Errorf("clash: %v, told %q", err, rep)
	}
	if b, _ := os.ReadFile(real); string(b) != clash {
		t.Errorf("refused file changed:\n%s", b)
	}
}

func TestWithRootHint(t *testing.T) {
	argv := []string{"keyform", "apply", "nixconf.ci", "--create"}
	root := &AccessError{Path: "/etc/nix/nix.conf", Op: "replace", Why: "permission denied", NeedsRoot: true}
	if err := WithRootHint(fmt.Errorf("x: %w", root), argv); err.Error() != "cannot replace /etc/nix/nix.conf: permission denied" || hint.Of(err) != "run it as root: sudo keyform apply nixconf.ci --create" {
		t.Errorf("needs root: %v (%s)", err, hint.Of(err))
	}
	ro := &AccessError{Path: "/etc/nix/nix.conf", Op: "replace", Why: "it is on a read-only file system", Hint: "remount it"}
	if err := WithRootHint(ro, argv); hint.Of(err) != "remount it" {
		t.Errorf("read-only: %v (%s)", err, hint.Of(err))
	}
	other := errors.New("other")
	if WithRootHint(other, argv) != other || WithRootHint(nil, argv) != nil {
		t.Error("other errors changed")
	}
}

// TestRootCommand: the same apply with the flags that change the file,
// not --dry-run.
func TestRootCommand(t *testing.T) {
	o := ApplyOptions{Create: true, DryRun: true, Backup: true, Restart: true, NoNixCheck: true}
	got := strings.Join(o.RootCommand("nixconf.ci", "my nix.conf"), " ")
	if want := "keyform apply nixconf.ci --file my nix.conf --create --backup --restart --no-nix-check"; got != want {
		t.Errorf("RootCommand = %q, want %q", got, want)
	}
	if got := (ApplyOptions{DryRun: true}).RootCommand("nixconf.ci", ""); strings.Join(got, " ") != "keyform apply nixconf.ci" {
		t.Errorf("RootCommand(dry run) = %q", got)
	}
}
