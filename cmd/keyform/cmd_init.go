package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func initCommand() *command {
	return &command{
		name:  "init",
		args:  "[--private-dir ABSDIR]",
		short: "write a commented starter keyform.hcl",
		long: `Writes keyform.hcl with one catalog, one key and two targets to edit.
Refuses to overwrite an existing keyform.hcl. The key's private_key_path is
placed under --private-dir (default: keyform/ in your user config directory),
outside the repository.`,
		setup: func(fs *flag.FlagSet) runFunc {
			dir := fs.String("private-dir", "", "absolute `directory` for private keys (default $XDG_CONFIG_HOME/keyform)")
			return func(e *env, args []string) error { return runInit(e, *dir, args) }
		},
	}
}

const starterPolicy = `# keyform policy: which Nix signing keys each kind of machine trusts.
# Edit, then run:
#   keyform keygen        # generate the key pairs declared below
#   keyform validate      # check the policy
#   keyform keys list     # see keys and who trusts them

# A catalog is a binary cache (Flox Catalog Store, S3 or HTTP cache).
catalog "main" {
  # Optional: the cache URL machines substitute from.
  substituter = "https://cache.example.org"
}

# A key signs what is published to a catalog. The label ("main_1") is used
# in references; name is the Nix key name (defaults to the label). Use a new
# name for every key: rotate to "cache.example.org-2", never reuse a name.
key "main_1" {
  name    = "cache.example.org-1"
  catalog = catalog.main
  # Written by keygen; commit it.
  public_key_file = "keys/cache.example.org-1.pub"
  # Absolute, outside the repository; never commit a private key.
  private_key_path = "%s"
  # expires = "2027-12-31"
}

# Targets are the machines that must trust the keys.
# Kinds: nixos, darwin, home_manager, nixconf.
target "nixos" "servers" {
  trust = [catalog.main]
}

target "nixconf" "ci_runners" {
  trust = [catalog.main]
  path  = "/etc/nix/nix.conf"
}
`

func runInit(e *env, dir string, args []string) error {
	if len(args) > 0 {
		return usagef("init takes no arguments")
	}
	if dir == "" {
		cfg, err := os.UserConfigDir()
		if err != nil {
			return withHint(err, "pass --private-dir ABSDIR to say where private keys go")
		}
		dir = filepath.Join(cfg, "keyform")
	}
	if !filepath.IsAbs(dir) {
		return usagef("--private-dir %q must be an absolute path", dir)
	}
	keyPath := filepath.Join(dir, "cache.example.org-1.key")
	if strings.ContainsAny(keyPath, "\"\\$\n") {
		return usagef("--private-dir %q holds characters that cannot go in the policy", dir)
	}
	f, err := os.OpenFile(e.path("keyform.hcl"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return withHint(errors.New("keyform.hcl already exists; not overwriting it"), "edit it, or run init in an empty directory")
	}
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, starterPolicy, keyPath); err != nil {
		f.Close()
		os.Remove(e.path("keyform.hcl"))
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote keyform.hcl\nnext: edit it, then run \"keyform keygen\" and \"keyform validate\"\n")
	return nil
}
