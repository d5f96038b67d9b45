// Command keyform-synthetic writes synthetic policies and nix.conf files for
// benchmarks (see BENCHMARKS.md):
//
//	keyform-synthetic [-keys 10000 -targets 1000 ...] DIR     a policy
//	keyform-synthetic -pair [-rotate N] DIR                   DIR/base and DIR/head, head after a rotation (for plan)
//	keyform-synthetic -pending -private-key-dir ABS DIR       keys still to generate (for keygen)
//	keyform-synthetic -nixconf BYTES DIR                      DIR/nix.conf and the file it includes
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keyform/keyform/internal/synthetic"
)

func main() {
	cfg := synthetic.Large
	flag.IntVar(&cfg.Catalogs, "catalogs", cfg.Catalogs, "number of catalogs")
	flag.IntVar(&cfg.Keys, "keys", cfg.Keys, "number of keys")
	flag.IntVar(&cfg.Targets, "targets", cfg.Targets, "number of targets")
	flag.IntVar(&cfg.Files, "files", cfg.Files, "number of .hcl files")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed for deterministic output")
	flag.IntVar(&cfg.RotateKey, "rotate", -1, "add a successor for this key index (a policy after a rotation); with -pair, default 0")
	flag.BoolVar(&cfg.Pending, "pending", false, "declare keys with public_key_file and no key material, for keyform keygen")
	flag.StringVar(&cfg.PrivateKeyDir, "private-key-dir", "", "absolute `dir` for private_key_path (default /var/lib/keyform)")
	pair := flag.Bool("pair", false, "write DIR/base and DIR/head, head with a rotation, for keyform plan")
	nixconf := flag.Int("nixconf", 0, "instead of a policy, write DIR/nix.conf of about this many `bytes` and the file it includes")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: keyform-synthetic [flags] DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), cfg, *pair, *nixconf); err != nil {
		fmt.Fprintln(os.Stderr, "keyform-synthetic:", err)
		os.Exit(2)
	}
}

func run(dir string, cfg synthetic.Config, pair bool, nixconf int) error {
	if cfg.PrivateKeyDir != "" && !filepath.IsAbs(cfg.PrivateKeyDir) {
		return fmt.Errorf("-private-key-dir %q must be absolute", cfg.PrivateKeyDir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	switch {
	case nixconf > 0:
		return synthetic.WriteFiles(dir, synthetic.NixConfFiles(nixconf, cfg.Seed))
	case pair:
		head := cfg
		if head.RotateKey < 0 {
			head.RotateKey = 0
		}
		base := cfg
		base.RotateKey = -1
		if err := synthetic.Write(filepath.Join(dir, "base"), base); err != nil {
			return err
		}
		return synthetic.Write(filepath.Join(dir, "head"), head)
	}
	return synthetic.Write(dir, cfg)
}
