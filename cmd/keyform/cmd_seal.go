package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
	"github.com/keyform/keyform/seal"
)

func sealCommand() *command {
	return &command{
		name:  "seal",
		args:  "[--secret FILE] [--force] KEY...",
		short: "encrypt private keys to their publishers' recipients, for committing",
		long: `Encrypts the private key of each KEY, read from its private_key_path (or
--secret FILE), with age to every recipient of every publisher of the key,
and writes sealed_dir/KEY.age (ASCII-armored) and sealed_dir/KEY.recipients
(who can decrypt it). Both are safe to commit; review a change to the
.recipients file like an access grant.

The private key must match the key's public key in the policy. A key that is
already sealed to exactly the policy's recipients is left alone (age output
is randomised, so rewriting it would only churn git); --force seals it anew.
Publishers then install it with "keyform unseal KEY --identity FILE".`,
		setup: func(fs *flag.FlagSet) runFunc {
			var o sealOpts
			fs.StringVar(&o.secret, "secret", "", "read the private key from `FILE` instead of the key's private_key_path (one KEY only)")
			fs.BoolVar(&o.force, "force", false, "seal even keys that are already current")
			return func(e *env, args []string) error { return runSeal(e, o, args) }
		},
	}
}

func resealCommand() *command {
	return &command{
		name:  "reseal",
		args:  "[--identity FILE] [--check] [KEY...]",
		short: "re-encrypt sealed keys whose recipients differ from the policy",
		long: `Compares every sealed key (or the named KEYs) with the policy: a key whose
publishers or recipients changed is sealed again to exactly the policy's
recipients, and a sealed key that no publisher recipient wants any more is
deleted. Prints one line per key: current, resealed, removed, or missing
(never sealed: run "keyform seal KEY").

The secret comes from decrypting the current sealed file with --identity
(your age identity or SSH private key), or else from the key's
private_key_path on this machine. Either way it must match the policy's
public key.

Removing a publisher or recipient does not take the key away: they could
decrypt it before, and git history keeps the old sealed file. reseal warns;
rotate the key ("keyform rotate KEY").

--check changes nothing: it lists what reseal would do and exits 1 if
anything is out of date (for CI).`,
		setup: func(fs *flag.FlagSet) runFunc {
			var o resealOpts
			fs.StringVar(&o.identity, "identity", "", "age identity `FILE` or SSH private key that can decrypt the sealed keys")
			fs.BoolVar(&o.check, "check", false, "report only; exit 1 if any sealed key is out of date")
			return func(e *env, args []string) error { return runReseal(e, o, args) }
		},
	}
}

type sealOpts struct {
	secret string
	force  bool
}

type resealOpts struct {
	identity string
	check    bool
}

// sealJob is one key to write, prepared in full before anything is written.
type sealJob struct {
	st     *seal.Status
	sealed []byte
	record []byte
}

func runSeal(e *env, o sealOpts, args []string) error {
	if len(args) == 0 {
		return usagef("seal needs at least one KEY; \"keyform reseal\" updates every sealed key")
	}
	if o.secret != "" && len(args) > 1 {
		return usagef("seal: --secret names one key's file; seal one KEY at a time with it")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	var jobs []sealJob
	for _, label := range args {
		k, err := generatedKey(p, label)
		if err != nil {
			return err
		}
		st, err := seal.Check(os.DirFS(e.path(".")), p, k)
		if err != nil {
			return err
		}
		if len(st.Want) == 0 {
			return withHint(fmt.Errorf("key %s has no recipients: no publisher with recipients lists it", k.Label),
				"add a publisher with keys = [key.%s] and recipients = [\"age1...\"]", k.Label)
		}
		if st.State == seal.Current && !o.force {
			fmt.Fprintf(e.stdout, "current %s: %s is sealed to the policy's %s\n", k.Label, k.SealedFile, plural(len(st.Want), "recipient", "recipients"))
			continue
		}
		path := o.secret
		if path == "" {
			path = k.PrivateKeyPath
		}
		if path == "" {
			return withHint(fmt.Errorf("key %s has no private_key_path to read the secret from", k.Label),
				"pass it with --secret FILE, or set private_key_path on the key")
		}
		sk, err := readSecretKeyFile(e, k, path)
		if err != nil {
			return err
		}
		job, err := prepareSeal(st, sk)
		if err != nil {
			return err
		}
		jobs = append(jobs, job)
	}
	for _, j := range jobs {
		if err := writeSealed(e, j); err != nil {
			return err
		}
		k := j.st.Key
		fmt.Fprintf(e.stdout, "sealed %s to %s (%s): %s\n", k.Label, plural(len(j.st.Want), "recipient", "recipients"), strings.Join(seal.Publishers(j.st.Want), ", "), k.SealedFile)
		warnRotation(e, j.st)
	}
	return nil
}

// readSecretKeyFile reads a Nix secret key file and checks it is k's key.
func readSecretKeyFile(e *env, k *policy.Key, path string) (*keys.SecretKey, error) {
	data, err := os.ReadFile(e.path(path))
	if err != nil {
		return nil, fmt.Errorf("key %s: cannot read the private key: %w", k.Label, unwrapPathError(err, path))
	}
	sk, err := keys.ParseSecretKey(string(data))
	clear(data)
	if err != nil {
		return nil, fmt.Errorf("key %s: %s is not a Nix secret key: %v", k.Label, path, err)
	}
	if err := sealedMatchesPolicy(k, sk, path); err != nil {
		return nil, withHint(fmt.Errorf("refusing to seal: %w", err), "seal the private key that belongs to %s's public key in the policy", k.Label)
	}
	return sk, nil
}

// prepareSeal encrypts sk to the recipients st wants and builds the record.
func prepareSeal(st *seal.Status, sk *keys.SecretKey) (sealJob, error) {
	k := st.Key
	var buf bytes.Buffer
	if err := seal.Seal(&buf, sk, seal.Recipients(st.Want)); err != nil {
		return sealJob{}, fmt.Errorf("seal %s: %w", k.Label, err)
	}
	rec := &seal.Record{Key: k.Label, PublicKey: k.PublicKey, SHA256: seal.Hash(buf.Bytes()), Entries: st.Want}
	return sealJob{st: st, sealed: buf.Bytes(), record: rec.Marshal()}, nil
}

// writeSealed writes the sealed file, then its record (which binds it by
// hash, so a crash between the two shows up as stale, not as current).
func writeSealed(e *env, j sealJob) error {
	name := e.path(j.st.Key.SealedFile)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(name, j.sealed, 0o644); err != nil {
		return err
	}
	return atomicfile.WriteFile(seal.RecordPath(name), j.record, 0o644)
}

// warnRotation says that publishers who lose access may still hold the key,
// and that a removed recipient key of a remaining publisher matters too if
// it was lost.
func warnRotation(e *env, st *seal.Status) {
	k := st.Key
	if lost := st.LostAccess(); len(lost) > 0 {
		e.warnf("%s: %s could decrypt %s before (git history keeps the old file) and may still hold the key; rotate it: keyform rotate %s",
			k.Label, strings.Join(lost, ", "), k.SealedFile, k.Label)
	}
	if re := st.Rekeyed(); len(re) > 0 {
		e.notef("%s: a recipient key of %s was removed; it can still open older versions of %s, so if it was lost or stolen, rotate: keyform rotate %s",
			k.Label, strings.Join(re, ", "), k.SealedFile, k.Label)
	}
}

func runReseal(e *env, o resealOpts, args []string) error {
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	var ks []*policy.Key
	for _, label := range args {
		k, err := generatedKey(p, label)
		if err != nil {
			return err
		}
		ks = append(ks, k)
	}
	if len(args) == 0 {
		for _, k := range p.Keys {
			if !k.Pending() {
				ks = append(ks, k)
			}
		}
	}
	var ids []age.Identity
	if o.identity != "" && !o.check {
		if ids, err = readIdentities(e, o.identity); err != nil {
			return err
		}
	}
	var jobs []sealJob
	var orphans []*seal.Status
	outOfDate := false
	var failed []error
	for _, k := range ks {
		st, err := seal.Check(os.DirFS(e.path(".")), p, k)
		if err != nil {
			return err
		}
		switch st.State {
		case seal.Unsealed:
			if len(args) > 0 {
				fmt.Fprintf(e.stdout, "unsealed %s: no publisher has recipients for it\n", k.Label)
			}
			continue
		case seal.Current:
			fmt.Fprintf(e.stdout, "current %s\n", k.Label)
			continue
		case seal.Missing:
			outOfDate = true
			fmt.Fprintf(e.stdout, "missing %s: never sealed; run: keyform seal %s\n", k.Label, k.Label)
			continue
		}
		outOfDate = true
		if o.check {
			verb := "stale"
			if st.State == seal.Orphaned {
				verb = "orphaned"
			}
			fmt.Fprintf(e.stdout, "%s %s: %s\n", verb, k.Label, st.Change())
			continue
		}
		if st.State == seal.Orphaned {
			orphans = append(orphans, st)
			continue
		}
		sk, err := resealSecret(e, k, ids, o.identity)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		job, err := prepareSeal(st, sk)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		jobs = append(jobs, job)
	}
	if len(failed) > 0 {
		// Nothing is written unless every stale key can be resealed.
		for _, err := range failed[:len(failed)-1] {
			e.printError(err)
		}
		return failed[len(failed)-1]
	}
	if o.check {
		if outOfDate {
			return errDiffers
		}
		return nil
	}
	for _, j := range jobs {
		if err := writeSealed(e, j); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "resealed %s: %s\n", j.st.Key.Label, j.st.Change())
		warnRotation(e, j.st)
	}
	for _, st := range orphans {
		for _, f := range []string{st.Key.SealedFile, seal.RecordPath(st.Key.SealedFile)} {
			if err := os.Remove(e.path(f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		fmt.Fprintf(e.stdout, "removed %s: no publisher recipients left\n", st.Key.Label)
		warnRotation(e, st)
	}
	return nil
}

// resealSecret gets k's secret for resealing: from the sealed file with
// the identity, else from private_key_path on this machine.
func resealSecret(e *env, k *policy.Key, ids []age.Identity, idPath string) (*keys.SecretKey, error) {
	var errs []string
	if ids != nil {
		if _, err := os.Stat(e.path(k.SealedFile)); err == nil {
			sk, err := openSealedKey(e, k, ids, idPath)
			if err == nil {
				return sk, nil
			}
			errs = append(errs, err.Error())
		}
	}
	if k.PrivateKeyPath != "" {
		if _, err := os.Stat(k.PrivateKeyPath); err == nil {
			return readSecretKeyFile(e, k, k.PrivateKeyPath)
		}
	}
	if len(errs) > 0 {
		return nil, withHint(fmt.Errorf("cannot reseal %s: %s", k.Label, strings.Join(errs, "; ")),
			"use an identity that %s lists, or run reseal where the private key is at %s", seal.RecordPath(k.SealedFile), orDash(k.PrivateKeyPath))
	}
	return nil, withHint(fmt.Errorf("cannot reseal %s: no --identity given and no private key at %s", k.Label, orDash(k.PrivateKeyPath)),
		"pass --identity with your age identity or SSH private key, if %s lists you", seal.RecordPath(k.SealedFile))
}
