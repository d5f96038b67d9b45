package seal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/internal/secretfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// KeyFiles handles the private key files on this machine for the
// commands that keep keys (keygen, seal, unseal, keys check, and through
// packages rotation and publisher, rotate and publisher setup): where they
// may go, proving that one holds the policy's key, reading, writing and
// installing them, with warnings about files and directories others can
// read. The rules are internal/secretfile's.
type KeyFiles struct {
	// Outside refuses a path inside the policy directory or its git work
	// tree, where a key could be committed (secretfile.CheckOutside).
	Outside func(path string) error
	// Path resolves a path relative to the policy directory (cli.Env.Path):
	// the directory itself ("."), public key files, secrets named on the
	// command line. Messages name paths as given. Nil leaves them as they
	// are.
	Path func(string) string
	// Rand makes new keys and the messages that proofs sign.
	Rand io.Reader
	Rep  report.Reporter
}

// Resolve resolves name with Path.
func (f KeyFiles) Resolve(name string) string {
	if f.Path == nil {
		return name
	}
	return f.Path(name)
}

// Prove proves that the secret key file at path (absolute) belongs to k's
// public key (secretfile.Check), warning when others can read it. Errors
// are for files that cannot be checked at all.
func (f KeyFiles) Prove(k *policy.Key, path string) (*secretfile.Proof, error) {
	if err := f.Outside(path); err != nil {
		return nil, err
	}
	pk, err := keys.ParsePublicKey(k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.Label, err)
	}
	proof, err := secretfile.Check(path, pk, f.Rand)
	if proof != nil && secretfile.Exposed(proof.Perm) {
		f.Rep.Warnf("%s is readable by group or others (mode %04o); run: chmod 600 %s", path, proof.Perm, path)
	}
	var pe *secretfile.PathError
	if proof == nil && errors.As(err, &pe) {
		return nil, hint.Wrap(fmt.Errorf("key %s: %w", k.Label, err),
			"install the key first (keyform unseal %s --identity FILE), or pass the file with --secret", k.Label)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.Label, err)
	}
	return proof, nil
}

// Writer writes secret key files (secretfile.Writer), warning about
// directories others can read.
func (f KeyFiles) Writer(sync bool) *secretfile.Writer {
	return &secretfile.Writer{Sync: sync, Warn: func(dir string, perm fs.FileMode) {
		f.Rep.Warnf("%s is readable by others (mode %04o); consider chmod 700", dir, perm)
	}}
}

// Install installs k's secret sk at path (absolute), replacing a file
// there only with force, and reports it on w.
func (f KeyFiles) Install(w io.Writer, k *policy.Key, sk *keys.SecretKey, path string, force bool) error {
	if err := f.Writer(true).Install(path, sk, force); err != nil {
		return fmt.Errorf("key %s: %w", k.Label, err)
	}
	pk := sk.Public()
	fmt.Fprintf(w, "%s: installed %s (0600); matches %s (%s)\n", k.Label, path, pk.Name, pk.Fingerprint())
	return nil
}

// WarnRotation tells rep, after a key was sealed anew, that publishers who
// lost access may still hold the key, and that a removed recipient key of
// a remaining publisher matters too if it was lost.
func (s *Status) WarnRotation(rep report.Reporter) {
	k := s.Key
	if lost := s.LostAccess(); len(lost) > 0 {
		rep.Warnf("%s: %s could decrypt %s before (git history keeps the old file) and may still hold the key; rotate it: keyform rotate %s",
			k.Label, strings.Join(lost, ", "), k.SealedFile, k.Label)
	}
	if re := s.Rekeyed(); len(re) > 0 {
		rep.Notef("%s: a recipient key of %s was removed; it can still open older versions of %s, so if it was lost or stolen, rotate: keyform rotate %s",
			k.Label, strings.Join(re, ", "), k.SealedFile, k.Label)
	}
}
