// Command keyform-gen writes a synthetic policy (or nix.conf) for
// benchmarks: go run ./internal/gen/cmd/keyform-gen -keys 10000 -targets 1000 DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/keyform/keyform/internal/gen"
)

func main() {
	cfg := gen.Config{}
	flag.IntVar(&cfg.Catalogs, "catalogs", 100, "number of catalogs")
	flag.IntVar(&cfg.Keys, "keys", 10000, "number of keys")
	flag.IntVar(&cfg.Targets, "targets", 1000, "number of targets")
	flag.IntVar(&cfg.Files, "files", 10, "number of .hcl files")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed for deterministic output")
	flag.IntVar(&cfg.RotateKey, "rotate", -1, "add a successor for this key index (a policy after a rotation)")
	nixconf := flag.Int("nixconf", 0, "instead of a policy, write DIR/nix.conf of about this many bytes")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: keyform-gen [flags] DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "keyform-gen:", err)
		os.Exit(2)
	}
	var err error
	if *nixconf > 0 {
		err = os.WriteFile(dir+"/nix.conf", gen.NixConf(*nixconf, cfg.Seed), 0o644)
	} else {
		err = gen.Write(dir, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "keyform-gen:", err)
		os.Exit(2)
	}
}
