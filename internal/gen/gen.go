// Package gen writes synthetic but valid keyform policies and nix.conf files
// of any size, deterministically for a given seed. Benchmarks and the
// documented whole-process measurements use it to model large fleets.
package gen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyform/keyform/keys"
)

// Config sizes a policy.
type Config struct {
	Catalogs int
	Keys     int
	Targets  int
	// Files is how many .hcl files the blocks are spread over (at least 1).
	Files int
	Seed  uint64
	// RotateKey, when >= 0, adds a successor for that key index: the
	// policy "after a rotation" that plan benchmarks compare against.
	RotateKey int
}

// Small, Medium and Large are the sizes the benchmarks and BENCHMARKS.md use.
var (
	Medium = Config{Catalogs: 10, Keys: 100, Targets: 100, Files: 4, Seed: 1, RotateKey: -1}
	Large  = Config{Catalogs: 100, Keys: 10000, Targets: 1000, Files: 10, Seed: 1, RotateKey: -1}
)

// Files returns the policy as file name -> content. Key material comes from
// a ChaCha8 stream seeded by cfg.Seed, so the same config gives the same
// bytes. About one key in ten is retired and every catalog has at least two
// active keys (mid-rotation), so targets resolve to real trust sets.
func Files(cfg Config) (map[string][]byte, error) {
	if cfg.Files < 1 {
		cfg.Files = 1
	}
	if cfg.Catalogs < 1 || cfg.Keys < 2*cfg.Catalogs {
		return nil, fmt.Errorf("need at least one catalog and two keys per catalog")
	}
	var seed [32]byte
	for i := range 8 {
		seed[i] = byte(cfg.Seed >> (8 * i))
	}
	rng := rand.NewChaCha8(seed)
	bufs := make([]strings.Builder, cfg.Files)
	file := func(i int) *strings.Builder { return &bufs[i%cfg.Files] }

	fmt.Fprintf(file(0), "keyform {\n  output_dir = \"generated\"\n}\n\n")
	for c := range cfg.Catalogs {
		fmt.Fprintf(file(c), "catalog \"cat%04d\" {\n  substituter = \"https://cache%04d.example.org\"\n}\n\n", c, c)
	}
	nkeys := cfg.Keys
	if cfg.RotateKey >= 0 {
		nkeys++
	}
	for i := range nkeys {
		idx, state := i, "active"
		if i == cfg.Keys { // the rotation's successor key
			idx = cfg.RotateKey
		} else if i >= 2*cfg.Catalogs && i%10 == 9 {
			state = "retired"
		}
		name := fmt.Sprintf("cache%04d.example.org-%d", idx%cfg.Catalogs, i)
		sk, err := keys.Generate(name, rng)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(file(i), "key \"key%05d\" {\n  name             = %q\n  catalog          = catalog.cat%04d\n  public_key       = %q\n  private_key_path = \"/var/lib/keyform/%s.key\"\n  state            = %q\n}\n\n",
			i, name, idx%cfg.Catalogs, sk.Public().String(), name, state)
	}
	kinds := []string{"nixos", "darwin", "home_manager", "nixconf"}
	for t := range cfg.Targets {
		kind := kinds[t%len(kinds)]
		// Each target trusts three catalogs and one loose key.
		c := t % cfg.Catalogs
		k := (t * 7) % cfg.Keys
		if k >= 2*cfg.Catalogs && k%10 == 9 {
			k-- // never trust a retired key directly
		}
		fmt.Fprintf(file(t), "target %q \"t%05d\" {\n  trust = [catalog.cat%04d, catalog.cat%04d, catalog.cat%04d, key.key%05d]\n}\n\n",
			kind, t, c, (c+1)%cfg.Catalogs, (c+2)%cfg.Catalogs, k)
	}
	out := map[string][]byte{}
	for i := range bufs {
		out[fmt.Sprintf("policy%02d.hcl", i)] = []byte(bufs[i].String())
	}
	return out, nil
}

// Write writes the policy of cfg into dir, which must exist.
func Write(dir string, cfg Config) error {
	files, err := Files(cfg)
	if err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// NixConf returns a nix.conf of about size bytes in the shapes real files
// take: comments, many settings, long key lists, trailing comments, tabs,
// an include, and repeated extra- lines.
func NixConf(size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0))
	var b strings.Builder
	b.WriteString("# Generated nix.conf for benchmarks\nbuild-users-group = nixbld\n!include nix.custom.conf\n")
	b.WriteString("trusted-public-keys = cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=\n")
	for i := 0; b.Len() < size; i++ {
		switch i % 6 {
		case 0:
			fmt.Fprintf(&b, "# comment line %d about the settings below\n", i)
		case 1:
			fmt.Fprintf(&b, "max-jobs = %d\n", rng.IntN(64))
		case 2:
			b.WriteString("extra-trusted-public-keys =")
			for j := range 20 {
				fmt.Fprintf(&b, " cache%d-%d.example.org-1:%043dA=", i, j, rng.Uint64())
			}
			b.WriteString("\n")
		case 3:
			fmt.Fprintf(&b, "extra-substituters = https://cache%d.example.org\t# trailing comment\n", i)
		case 4:
			fmt.Fprintf(&b, "experimental-features = nix-command flakes\n")
		case 5:
			fmt.Fprintf(&b, "\tsandbox = true   \n")
		}
	}
	return []byte(b.String())
}
