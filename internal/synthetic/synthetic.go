// Package synthetic writes synthetic but valid keyform policies and nix.conf files
// of any size, deterministically for a given seed. Benchmarks and the
// documented whole-process measurements (bench/run) use it to model large
// fleets.
package synthetic

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keyform/keyform/internal/memfs"
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
	// RotateKey, when >= 0, adds a successor for that key index, active in
	// the same catalog, as "keyform rotate" does: the policy "after a
	// rotation" that plan benchmarks compare against the one without.
	RotateKey int
	// Pending declares every key with a public_key_file that does not
	// exist and a private_key_path under PrivateKeyDir, and writes no key
	// material: the policy "keyform keygen" starts from.
	Pending bool
	// PrivateKeyDir is where private_key_path values point (absolute);
	// "/var/lib/keyform" when empty.
	PrivateKeyDir string
}

// Small, Medium and Large are the sizes the benchmarks and BENCHMARKS.md
// use; Small is examples/fleet, a hand-written policy. Mid sits between
// Medium and Large, for the three-size tables.
var (
	Medium = Config{Catalogs: 10, Keys: 100, Targets: 100, Files: 4, Seed: 1, RotateKey: -1}
	Mid    = Config{Catalogs: 30, Keys: 1000, Targets: 300, Files: 4, Seed: 1, RotateKey: -1}
	Large  = Config{Catalogs: 100, Keys: 10000, Targets: 1000, Files: 10, Seed: 1, RotateKey: -1}
)

// Retired reports whether the generated policy retires key index i: about
// one key in ten, never one of the first two of each catalog, so every
// catalog keeps at least two active keys (mid-rotation).
func (cfg Config) Retired(i int) bool { return i >= 2*cfg.Catalogs && i%10 == 9 }

// Files returns the policy as file name -> content: the .hcl files and,
// for keys declared with public_key_file, the public key files under
// keys/. Key material comes from a ChaCha8 stream seeded by cfg.Seed, so
// the same config gives the same bytes.
//
// The policy exercises what real ones use: every target kind, exclusive
// nixos and darwin targets, output and path overrides, descriptions,
// expiry dates, inline and file public keys, retired keys (about one in
// ten) and catalogs with several active keys at once.
func Files(cfg Config) (map[string][]byte, error) {
	if cfg.Files < 1 {
		cfg.Files = 1
	}
	if cfg.Catalogs < 1 || cfg.Keys < 2*cfg.Catalogs {
		return nil, fmt.Errorf("need at least one catalog and two keys per catalog")
	}
	if cfg.RotateKey >= cfg.Keys || cfg.RotateKey >= 0 && cfg.Retired(cfg.RotateKey) {
		return nil, fmt.Errorf("rotate: key %d is not an active key of the policy", cfg.RotateKey)
	}
	privDir := cfg.PrivateKeyDir
	if privDir == "" {
		privDir = "/var/lib/keyform"
	}
	var seed [32]byte
	for i := range 8 {
		seed[i] = byte(cfg.Seed >> (8 * i))
	}
	rng := rand.NewChaCha8(seed)
	out := map[string][]byte{}
	bufs := make([]strings.Builder, cfg.Files)
	file := func(i int) *strings.Builder { return &bufs[i%cfg.Files] }

	fmt.Fprintf(file(0), "keyform {\n  output_dir          = \"generated\"\n  expiry_warning_days = 30\n}\n\n")
	for c := range cfg.Catalogs {
		fmt.Fprintf(file(c), "catalog \"cat%04d\" {\n  description = \"Generated cache %d\"\n  substituter = \"https://cache%04d.example.org\"\n}\n\n", c, c, c)
	}
	nkeys := cfg.Keys
	if cfg.RotateKey >= 0 {
		nkeys++
	}
	for i := range nkeys {
		idx, state := i, "active"
		if i == cfg.Keys { // the rotation's successor key
			idx = cfg.RotateKey
		} else if cfg.Retired(i) {
			state = "retired"
		}
		name := fmt.Sprintf("cache%04d.example.org-%d", idx%cfg.Catalogs, i)
		label := fmt.Sprintf("key%05d", i)
		b := file(i)
		fmt.Fprintf(b, "key %q {\n  name             = %q\n  catalog          = catalog.cat%04d\n", label, name, idx%cfg.Catalogs)
		pubFile := "keys/" + name + ".pub"
		switch {
		case cfg.Pending:
			fmt.Fprintf(b, "  public_key_file  = %q\n", pubFile)
		case i%2 == 1:
			// Half the keys keep their public key in a file, as keygen
			// writes them; the other half inline.
			fmt.Fprintf(b, "  public_key_file  = %q\n", pubFile)
			fallthrough
		default:
			sk, err := keys.Generate(name, rng)
			if err != nil {
				return nil, err
			}
			if i%2 == 1 {
				out[pubFile] = []byte(sk.Public().String() + "\n")
			} else {
				fmt.Fprintf(b, "  public_key       = %q\n", sk.Public().String())
			}
		}
		fmt.Fprintf(b, "  private_key_path = %q\n  state            = %q\n", path.Join(privDir, name+".key"), state)
		if i%5 == 0 {
			// Far enough ahead that no benchmark date warns about it.
			fmt.Fprintf(b, "  expires          = \"2099-%02d-28\"\n", 1+i%12)
		}
		b.WriteString("}\n\n")
	}
	kinds := []string{"nixos", "darwin", "home_manager", "nixconf"}
	for t := range cfg.Targets {
		kind := kinds[t%len(kinds)]
		// Each target trusts three catalogs and one loose key.
		c := t % cfg.Catalogs
		k := (t * 7) % cfg.Keys
		if cfg.Retired(k) {
			k-- // never trust a retired key directly
		}
		b := file(t)
		fmt.Fprintf(b, "target %q \"t%05d\" {\n  description = \"Generated machine class %d\"\n  trust       = [catalog.cat%04d, catalog.cat%04d, catalog.cat%04d, key.key%05d]\n",
			kind, t, t, c, (c+1)%cfg.Catalogs, (c+2)%cfg.Catalogs, k)
		switch {
		case (kind == "nixos" || kind == "darwin") && t%3 == 0:
			b.WriteString("  exclusive   = true\n")
		case kind == "nixconf" && t%3 == 0:
			b.WriteString("  path        = \"/etc/nix/nix.custom.conf\"\n")
		case t%7 == 0:
			fmt.Fprintf(b, "  output      = \"hosts/%s-t%05d.nix\"\n", kind, t)
		}
		b.WriteString("}\n\n")
	}
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
	return WriteFiles(dir, files)
}

// WriteFiles writes files (name -> content, names slash-separated and
// relative) under dir, creating subdirectories.
func WriteFiles(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// NixConfInclude is the file the generated nix.conf includes.
const NixConfInclude = "nix.custom.conf"

// NixConf returns a nix.conf of about size bytes in the shapes real files
// take: comments, many settings, long key lists, trailing comments, tabs,
// repeated extra- lines, an "!include" of NixConfInclude and keyform's
// block for the target nixconf.t00003 from an earlier apply.
func NixConf(size int, seed uint64) []byte {
	return NixConfFiles(size, seed)["nix.conf"]
}

// NixConfFiles returns a nix.conf of about size bytes (see NixConf) and
// the file it includes, NixConfInclude, about a tenth of that size with
// more key and substituter lines; names are relative to one directory.
// RetiredKeys(seed) lists keys both files trust that a policy may retire.
func NixConfFiles(size int, seed uint64) map[string][]byte {
	rng := rand.New(rand.NewPCG(seed, 0))
	var b strings.Builder
	b.WriteString("# Generated nix.conf for benchmarks\nbuild-users-group = nixbld\n")
	b.WriteString("trusted-public-keys = cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=\n")
	b.WriteString("!include " + NixConfInclude + "\n")
	fill(&b, rng, size-size/10, "m")
	b.WriteString("# Managed by keyform (target nixconf.t00003): \"keyform apply\" edits the lines below; change the policy instead.\n")
	fmt.Fprintf(&b, "extra-trusted-public-keys = %s %s\n", retiredKey(0), retiredKey(1))
	b.WriteString("extra-substituters = https://cache0003.example.org\n")
	fill(&b, rng, size, "t")

	var inc strings.Builder
	inc.WriteString("# Included by the generated nix.conf\n")
	fmt.Fprintf(&inc, "extra-trusted-public-keys = %s\n", retiredKey(2))
	fill(&inc, rng, size/10, "i")
	return map[string][]byte{"nix.conf": []byte(b.String()), NixConfInclude: []byte(inc.String())}
}

// RetiredKeys are public keys that NixConfFiles trusts, for a benchmark
// policy to retire.
func RetiredKeys() []string { return []string{retiredKey(0), retiredKey(1), retiredKey(2)} }

func retiredKey(i int) string {
	return fmt.Sprintf("old%d.example.org-1:%042dA=", i, i)
}

// fill appends lines to b until it holds size bytes.
func fill(b *strings.Builder, rng *rand.Rand, size int, tag string) {
	for i := 0; b.Len() < size; i++ {
		switch i % 6 {
		case 0:
			fmt.Fprintf(b, "# comment line %s%d about the settings below\n", tag, i)
		case 1:
			fmt.Fprintf(b, "max-jobs = %d\n", rng.IntN(64))
		case 2:
			b.WriteString("extra-trusted-public-keys =")
			for j := range 20 {
				fmt.Fprintf(b, " cache%s%d-%d.example.org-1:%042dA=", tag, i, j, rng.Uint64())
			}
			b.WriteString("\n")
		case 3:
			fmt.Fprintf(b, "extra-substituters = https://cache%s%d.example.org\t# trailing comment\n", tag, i)
		case 4:
			b.WriteString("experimental-features = nix-command flakes\n")
		case 5:
			b.WriteString("\tsandbox = true   \n")
		}
	}
}

// FS is Files as an in-memory file system, ready for schema.LoadFS.
func FS(cfg Config) (memfs.FS, error) {
	files, err := Files(cfg)
	return memfs.FS(files), err
}
