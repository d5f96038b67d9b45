// Package publisher sets up a publisher's machine ("keyform publisher
// setup"): it installs the publisher's keys from their sealed files,
// proves that each file in place holds the policy's key, and makes the
// default key Flox's signing key. Rendering the Flox setup as text is
// render/flox's; this package is the part that touches the machine.
package publisher

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/seal"
)

// Setup is how to set up a publisher's machine.
type Setup struct {
	// Dir is the policy directory, which holds the sealed files.
	Dir string
	// OutDir (absolute), when set, installs the keys as OutDir/NAME.key
	// instead of where the policy keeps them.
	OutDir string
	// Force replaces key files that exist instead of checking them.
	Force bool
	// Identities returns the identities to unseal with; it is called at
	// most once, so a passphrase is asked for once. Nil means none were
	// given.
	Identities func() (*seal.Identities, error)
	Files      seal.KeyFiles
	Flox       Flox
}

// Run installs pub's keys, or checks those in place, then, for a Flox
// publisher, configures Flox. Every key is unsealed and checked before
// anything is written, so a failure leaves nothing behind. What it did goes
// to w, warnings and notes to rep.
func (s Setup) Run(w io.Writer, rep report.Reporter, p *policy.Policy, pub *policy.Publisher) error {
	if s.OutDir != "" {
		pub = pub.WithKeyDir(filepath.Clean(s.OutDir))
	}
	plan, err := seal.PlanInstall(s.Dir, p, pub, s.Force, s.Files.Outside, s.Identities)
	if nw := (*secretfile.NotWritableError)(nil); errors.As(err, &nw) {
		return hint.Wrap(err, "%s", s.writableHint(pub))
	} else if err != nil {
		return err
	}
	if err := install(w, s.Files, pub, plan, s.Force); err != nil {
		return err
	}
	if s.OutDir != "" {
		rep.Notef("the policy does not keep %s's keys in %s; to make it the place, set private_key_dir = %q in publisher %q", pub.Label, pub.PrivateKeyDir, pub.PrivateKeyDir, pub.Label)
	}
	if !pub.Flox {
		return nil
	}
	return s.Flox.Configure(w, rep, p, pub)
}

// writableHint suggests a directory the user can write, or sudo.
func (s Setup) writableHint(pub *policy.Publisher) string {
	dir := "$HOME/.config/keyform"
	if cfg, err := os.UserConfigDir(); err == nil {
		dir = filepath.Join(cfg, "keyform")
	}
	if s.OutDir != "" {
		return fmt.Sprintf("choose a directory you can write, such as --out-dir %s", dir)
	}
	return fmt.Sprintf("install them where you can write: keyform publisher setup %s --out-dir %s (and set private_key_dir there in the policy); or run it with sudo", pub.Label, dir)
}

// install installs the keys of pub that plan (seal.PlanInstall) unsealed
// and proves the others, reporting each on w, and fails when a file in
// place holds another key.
func install(w io.Writer, f seal.KeyFiles, pub *policy.Publisher, plan []seal.Install, force bool) error {
	mismatch := false
	for _, in := range plan {
		if in.Secret != nil {
			if err := f.Install(w, in.Key, in.Secret, in.Path, force); err != nil {
				return err
			}
			continue
		}
		proof, err := f.Prove(in.Key, in.Path)
		if err != nil {
			return err
		}
		if !proof.Match {
			mismatch = true
			fmt.Fprintf(w, "%s: %s %s\n", in.Key.Label, in.Path, proof)
			continue
		}
		fmt.Fprintf(w, "%s: already installed at %s; %s\n", in.Key.Label, in.Path, proof)
	}
	if mismatch {
		return hint.Wrap(fmt.Errorf("publisher %s: a key file in place is not the policy's key", pub.Label),
			"move it away, or rerun with --force --identity FILE to replace it from the sealed key")
	}
	return nil
}
