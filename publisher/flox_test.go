package publisher

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

// Configure sets Flox's signing key once, with the flox on PATH, prints
// the command when there is none, and how to sign with the other keys.
func TestConfigure(t *testing.T) {
	p, pub := policyWith("/home/alice/.config/keyform/acme-1.key")
	cfgDir, bin := t.TempDir(), t.TempDir()
	env := map[string]string{"FLOX_CONFIG_DIR": cfgDir}
	var ran [][]string
	runErr := error(nil)
	m := Flox{Getenv: func(k string) string { return env[k] }, Run: func(argv []string) error { ran = append(ran, argv); return runErr }}
	others := "to sign with other_1 instead (catalog other): flox publish --signing-private-key '/var/lib/keyform/other-1.key' PACKAGE\n"

	t.Setenv("PATH", bin)
	var out bytes.Buffer
	var rep report.Log
	if err := m.Configure(&out, &rep, p, pub); err != nil {
		t.Fatal(err)
	}
	want := "flox is not on PATH; once it is, make acme_1 Flox's signing key with:\n  flox config --set publish.signing_private_key '/home/alice/.config/keyform/acme-1.key'\n" + others
	if out.String() != want || ran != nil || rep != nil {
		t.Errorf("no flox: ran %q, told %q\n%s", ran, rep, &out)
	}

	flox := filepath.Join(bin, "flox")
	os.WriteFile(flox, []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(cfgDir, "flox.toml"), []byte("[publish]\nsigning_private_key = \"/old.key\"\n"), 0o644)
	out.Reset()
	if err := m.Configure(&out, &rep, p, pub); err != nil {
		t.Fatal(err)
	}
	if out.String() != "ran: flox config --set publish.signing_private_key '/home/alice/.config/keyform/acme-1.key'\n"+others ||
		fmt.Sprint(ran) != fmt.Sprint([][]string{{flox, "config", "--set", "publish.signing_private_key", "/home/alice/.config/keyform/acme-1.key"}}) ||
		len(rep) != 1 || !strings.HasPrefix(rep[0], "note: "+filepath.Join(cfgDir, "flox.toml")+" names /old.key as Flox's signing key") {
		t.Errorf("flox: ran %q, told %q\n%s", ran, rep, &out)
	}

	runErr = errors.New("exit status 1")
	err := m.Configure(new(bytes.Buffer), &rep, p, pub)
	if err == nil || !strings.HasSuffix(err.Error(), ": exit status 1") || hint.Of(err) != "run it yourself, or set it in flox.toml: keyform publisher flox alice --toml" {
		t.Errorf("flox fails: %v (%s)", err, hint.Of(err))
	}

	os.WriteFile(filepath.Join(cfgDir, "flox.toml"), []byte("[publish]\nsigning_private_key = \"/home/alice/.config/keyform/acme-1.key\"\n"), 0o644)
	out.Reset()
	ran = nil
	if err := m.Configure(&out, &rep, p, pub); err != nil || ran != nil || !strings.HasPrefix(out.String(), "flox already signs with acme_1: ") {
		t.Errorf("already set: %v, ran %q\n%s", err, ran, &out)
	}
}

func policyWith(path string) (*policy.Policy, *policy.Publisher) {
	k1 := &policy.Key{Label: "acme_1", Name: "cache.acme.example-1", Catalog: "acme", PrivateKeyPath: path}
	k2 := &policy.Key{Label: "other_1", Name: "cache.other.example-1", Catalog: "other", PrivateKeyPath: "/var/lib/keyform/other-1.key"}
	pub := &policy.Publisher{Label: "alice", Keys: []string{"acme_1", "other_1"}, DefaultKey: "acme_1", Flox: true}
	return &policy.Policy{Keys: []*policy.Key{k1, k2}, Publishers: []*policy.Publisher{pub}}, pub
}
