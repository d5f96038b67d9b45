package synthetic_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
	"github.com/keyform/keyform/internal/synthetic"
	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
)

var now = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func load(t *testing.T, cfg synthetic.Config, opts schema.Options) *policy.Policy {
	t.Helper()
	fsys, err := synthetic.FS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = now
	res := schema.LoadFS(fsys, ".", opts)
	if len(res.Diags) > 0 {
		var b bytes.Buffer
		res.WriteDiagnostics(&b, 0, false)
		t.Fatalf("generated policy has diagnostics:\n%s", b.String())
	}
	return res.Policy
}

// TestPolicyShape checks that the generated policy is valid without a
// warning and has what the benchmarks claim it models.
func TestPolicyShape(t *testing.T) {
	cfg := synthetic.Mid
	p := load(t, cfg, schema.Options{})
	if len(p.Catalogs) != cfg.Catalogs || len(p.Keys) != cfg.Keys || len(p.Targets) != cfg.Targets {
		t.Fatalf("got %d catalogs, %d keys, %d targets; want %d, %d, %d", len(p.Catalogs), len(p.Keys), len(p.Targets), cfg.Catalogs, cfg.Keys, cfg.Targets)
	}
	retired, expiring, inline := 0, 0, 0
	for _, k := range p.Keys {
		if k.State == policy.Retired {
			retired++
		}
		if !k.Expires.IsZero() {
			expiring++
		}
		if k.PublicKeyFile == "" {
			inline++
		}
	}
	if retired < cfg.Keys/12 || retired > cfg.Keys/8 {
		t.Errorf("%d of %d keys retired, want about one in ten", retired, cfg.Keys)
	}
	if expiring == 0 || inline == 0 || inline == cfg.Keys {
		t.Errorf("%d keys expire, %d of %d are inline; want some of each", expiring, inline, cfg.Keys)
	}
	kinds := map[policy.Kind]int{}
	exclusive, output, path := 0, 0, 0
	for _, tg := range p.Targets {
		kinds[tg.Kind]++
		if tg.Exclusive {
			exclusive++
		}
		if tg.Output != "" {
			output++
		}
		if tg.Path != "" && tg.Path != "/etc/nix/nix.conf" {
			path++
		}
		if len(tg.Keys) < 2*3 {
			t.Errorf("%s trusts %d keys; every target should trust several catalogs mid-rotation", tg.ID(), len(tg.Keys))
		}
		if len(tg.Retired) != retired {
			t.Errorf("%s lists %d retired keys, want %d", tg.ID(), len(tg.Retired), retired)
		}
	}
	for _, k := range policy.Kinds {
		if kinds[k] == 0 {
			t.Errorf("no %s target", k)
		}
	}
	if exclusive == 0 || output == 0 || path == 0 {
		t.Errorf("%d exclusive targets, %d with output, %d with path; want some of each", exclusive, output, path)
	}
}

func TestDeterministic(t *testing.T) {
	a, err := synthetic.Files(synthetic.Medium)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := synthetic.Files(synthetic.Medium)
	other := synthetic.Medium
	other.Seed = 2
	c, _ := synthetic.Files(other)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two runs with one seed", name)
		}
	}
	if bytes.Equal(a["policy00.hcl"], c["policy00.hcl"]) {
		t.Error("another seed gives the same policy")
	}
}

// TestRotation checks the head of a plan pair: one more active key, in the
// rotated key's catalog, so the targets trusting that catalog gain it.
func TestRotation(t *testing.T) {
	base := load(t, synthetic.Medium, schema.Options{})
	cfg := synthetic.Medium
	cfg.RotateKey = 3
	head := load(t, cfg, schema.Options{})
	if len(head.Keys) != len(base.Keys)+1 {
		t.Fatalf("head has %d keys, base %d; want one more", len(head.Keys), len(base.Keys))
	}
	succ := head.Key("key00100")
	old := base.Key("key00003")
	if succ == nil || succ.Catalog != old.Catalog || succ.State != policy.Active || succ.Name == old.Name {
		t.Fatalf("successor %+v does not rotate %+v", succ, old)
	}
	gained := 0
	for i, tg := range head.Targets {
		if len(tg.Keys) == len(base.Targets[i].Keys)+1 {
			gained++
		}
	}
	if gained == 0 {
		t.Error("no target gains the successor key")
	}
}

func TestPending(t *testing.T) {
	cfg := synthetic.Medium
	cfg.Pending = true
	cfg.PrivateKeyDir = "/srv/keys"
	p := load(t, cfg, schema.Options{AllowPending: true})
	for _, k := range p.Keys {
		if !k.Pending() || k.PublicKeyFile == "" || filepath.Dir(k.PrivateKeyPath) != "/srv/keys" {
			t.Fatalf("key %s: pending %v, public_key_file %q, private_key_path %q", k.Label, k.Pending(), k.PublicKeyFile, k.PrivateKeyPath)
		}
	}
}

// TestNixConf checks that the generated nix.conf is as large as asked,
// legal for Nix, includes its second file, and trusts the keys a
// benchmark retires.
func TestNixConf(t *testing.T) {
	files := synthetic.NixConfFiles(1<<20, 1)
	main := files["nix.conf"]
	if len(main) < 1<<20 || len(main) > 1<<20+4096 {
		t.Errorf("nix.conf is %d bytes, want about %d", len(main), 1<<20)
	}
	f, err := nixconf.Parse("/etc/nix/nix.conf", main)
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) ([]byte, error) {
		if b, ok := files[filepath.Base(p)]; ok && filepath.Dir(p) == "/etc/nix" {
			return b, nil
		}
		return nil, os.ErrNotExist
	}
	eff, err := nixconf.Evaluate(read, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(eff.Warnings) > 0 {
		t.Errorf("warnings: %q", eff.Warnings[:1])
	}
	have := map[string]bool{}
	for _, k := range eff.Keys() {
		have[k] = true
	}
	for _, k := range synthetic.RetiredKeys() {
		if !have[k] {
			t.Errorf("%s is not trusted", k)
		}
	}
	if !bytes.Equal(synthetic.NixConf(1<<20, 1), main) {
		t.Error("NixConf differs from NixConfFiles' nix.conf")
	}
}
