package schema

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyform/keyform/internal/hint"
)

// ErrUnquotable: a path cannot be written into an HCL string as is.
var ErrUnquotable = errors.New("cannot go in an HCL string as is")

// WriteStarter writes the starter policy (Starter) to dir/keyform.hcl,
// never replacing an existing file; a file it could not finish is removed.
func WriteStarter(dir, privateKeyPath string) error {
	src, err := Starter(privateKeyPath)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "keyform.hcl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return hint.Wrap(errors.New("keyform.hcl already exists; not overwriting it"), "edit it, or run init in an empty directory")
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(src); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// Starter returns the commented starter policy "keyform init" writes, with
// one catalog, one key whose private key goes to privateKeyPath, and two
// targets to edit. A path that cannot be written into an HCL string as is
// is an error.
func Starter(privateKeyPath string) ([]byte, error) {
	if strings.ContainsAny(privateKeyPath, "\"\\$\n") || strings.Contains(privateKeyPath, "%{") {
		return nil, fmt.Errorf("%q %w", privateKeyPath, ErrUnquotable)
	}
	return fmt.Appendf(nil, starterPolicy, privateKeyPath), nil
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
