// Command keyform-cachegen writes a synthetic file:// binary cache for
// benchmarks (see BENCHMARKS.md): N narinfos signed by the given secret
// key files.
//
//	keyform-cachegen -paths 100000 -key old.sk [-key new.sk] DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/keyform/keyform/internal/cachegen"
	"github.com/keyform/keyform/keys"
)

type keyFiles []string

func (k *keyFiles) String() string     { return strings.Join(*k, ",") }
func (k *keyFiles) Set(v string) error { *k = append(*k, v); return nil }

func main() {
	var files keyFiles
	paths := flag.Int("paths", 1000, "number of narinfos")
	seed := flag.Uint64("seed", 1, "seed: the same seed gives the same cache")
	flag.Var(&files, "key", "secret key `file` that signs every narinfo (repeatable)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: keyform-cachegen [-paths N] [-seed S] -key FILE [-key FILE] DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	var signers []*keys.SecretKey
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			fail(err)
		}
		sk, err := keys.ParseSecretKey(string(text))
		if err != nil {
			fail(fmt.Errorf("%s: %w", f, err))
		}
		signers = append(signers, sk)
	}
	if _, err := cachegen.Generate(flag.Arg(0), cachegen.Options{Paths: *paths, Signers: signers, Seed: *seed}); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "keyform-cachegen: %v\n", err)
	os.Exit(1)
}
