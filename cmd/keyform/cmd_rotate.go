package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
)

func rotateCommand() *command {
	return &command{
		name:  "rotate",
		args:  "KEY [--name NAME] [--label LABEL] [--private-key-path ABSPATH] [--public-key-file PATH]",
		short: "add a successor key next to KEY (the old key stays active)",
		long: `Generates a new key pair, like keygen, and adds its key block right after
KEY's block, in the same catalog, keeping the file's comments and layout.
Targets that list key.KEY directly get the new key next to it. KEY stays
active: machines must trust the new key before anything is signed with it.
Once they do, retire the old key with "keyform retire KEY", as its own
reviewed change.

Defaults, each overridable (a name or label already taken moves on to the
next number):
  --name             KEY's Nix name with its trailing -N incremented
                     (cache.example.org-1 -> cache.example.org-2; else -2 is
                     appended)
  --label            KEY's label with its trailing number incremented
                     (acme_1 -> acme_2, acme_2026 -> acme_2027; else _2)
  --private-key-path NAME.key in the directory of KEY's private key
  --public-key-file  NAME.pub in the directory of KEY's public key file
                     (keys/ when KEY's public key is inline)

The edited policy is validated before anything is written; the secret is
written 0600 and never overwritten, and removed again if writing the policy
fails.`,
		setup: func(fs *flag.FlagSet) runFunc {
			var o rotateOpts
			fs.StringVar(&o.name, "name", "", "Nix key `name` of the new key")
			fs.StringVar(&o.label, "label", "", "`label` of the new key block")
			fs.StringVar(&o.privatePath, "private-key-path", "", "absolute `path` for the new secret key")
			fs.StringVar(&o.publicFile, "public-key-file", "", "`path` for the new public key, relative to the policy directory")
			return func(e *env, args []string) error { return runRotate(e, o, args) }
		},
	}
}

type rotateOpts struct {
	name, label, privatePath, publicFile string
}

// editOptions loads a policy for rotate and retire. Expiry is not judged:
// these commands are how an expired key is fixed.
var editOptions = schema.Options{AllowPending: true, SkipExpiry: true}

func runRotate(e *env, o rotateOpts, args []string) error {
	if len(args) != 1 {
		return usagef("rotate takes exactly one KEY (a key label)")
	}
	p, err := loadPolicy(e, editOptions)
	if err != nil {
		return err
	}
	old, err := findKey(p, args[0])
	if err != nil {
		return err
	}
	switch {
	case old.State == policy.Retired:
		return withHint(fmt.Errorf("key %s is retired; rotate an active key", old.Label), "run \"keyform keys list\" to see the active keys")
	case old.Pending():
		return withHint(fmt.Errorf("key %s has no public key yet, so there is nothing to rotate", old.Label), "generate it with \"keyform keygen %s\"", old.Label)
	}
	nk, err := successor(e, p, old, o)
	if err != nil {
		return err
	}

	sk, err := keys.Generate(nk.Name, e.rand)
	if err != nil {
		return err
	}
	pub := sk.Public().String()
	pe := newPolicyEdit(e, editOptions)
	src, err := pe.current(old.Pos.File)
	if err != nil {
		return err
	}
	out, err := schema.AddKeyAfter(src, old.Pos.File, old.Label, nk)
	if err != nil {
		return err
	}
	pe.set(old.Pos.File, out)
	files, err := policyFiles(e)
	if err != nil {
		return err
	}
	var trustedBy []string
	for _, name := range files {
		src, err := pe.current(name)
		if err != nil {
			return err
		}
		out, ids, err := schema.AddTrustRef(src, name, old.Label, nk.Label)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			pe.set(name, out)
			trustedBy = append(trustedBy, ids...)
		}
	}
	pe.set(nk.PublicKeyFile, []byte(pub+"\n"))
	edited, err := pe.validate(e)
	if err != nil {
		return err
	}
	if k := edited.Key(nk.Label); k == nil || k.PublicKey != pub {
		return fmt.Errorf("the edited policy does not hold the new key %s as expected; nothing was written (a keyform bug)", nk.Label)
	}

	if err := secretWriter(e, true).Create(nk.PrivateKeyPath, sk); err != nil {
		return fmt.Errorf("key %s: %w", nk.Label, err)
	}
	if err := pe.write(); err != nil {
		// The policy does not mention the secret, so it must not linger.
		os.Remove(nk.PrivateKeyPath)
		return fmt.Errorf("key %s: %w (the new secret key was removed again)", nk.Label, err)
	}
	where := "no catalog"
	if nk.Catalog != "" {
		where = "catalog " + nk.Catalog
	}
	e.printf("key %s (%s) added after %s in %s, in %s", nk.Label, nk.Name, old.Label, old.Pos.File, where)
	e.printf("key %s: secret written to %s (0600), public key to %s", nk.Label, nk.PrivateKeyPath, nk.PublicKeyFile)
	if len(trustedBy) > 0 {
		e.printf("key.%s added next to key.%s in the trust list of %s", nk.Label, old.Label, strings.Join(trustedBy, ", "))
	}
	for _, pub := range p.Publishers {
		if slices.Contains(pub.Keys, old.Label) {
			e.printf("publisher %s signs with key.%s; when it should sign with the new key, add key.%s to its keys and run \"keyform seal %s\"", pub.Label, old.Label, nk.Label, nk.Label)
		}
	}
	e.nextf("review with \"keyform plan\", merge and roll out; once every machine trusts %s, sign with it and run \"keyform retire %s\"", nk.Name, old.Label)
	fmt.Fprintln(e.stdout, pub)
	return nil
}

// successor works out the new key's block from the flags and the defaults
// documented in rotate's help, and checks nothing it would write exists.
func successor(e *env, p *policy.Policy, old *policy.Key, o rotateOpts) (schema.KeyBlock, error) {
	nk := schema.KeyBlock{Label: o.label, Name: o.name, Catalog: old.Catalog, PrivateKeyPath: o.privatePath, PublicKeyFile: o.publicFile}
	nameUsed := func(n string) bool {
		for _, k := range p.Keys {
			if k.Name == n {
				return true
			}
		}
		return false
	}
	if nk.Name == "" {
		nk.Name = schema.SuccessorName(old.Name)
		for nameUsed(nk.Name) {
			nk.Name = schema.SuccessorName(nk.Name)
		}
	} else if err := keys.ValidateName(nk.Name); err != nil {
		return nk, usagef("rotate: --name: %s", err)
	} else if nameUsed(nk.Name) {
		return nk, withHint(fmt.Errorf("the Nix key name %s is already used in the policy", nk.Name), "every key needs its own name; pick another with --name")
	}
	if nk.Label == "" {
		nk.Label = schema.SuccessorLabel(old.Label)
		for p.Key(nk.Label) != nil {
			nk.Label = schema.SuccessorLabel(nk.Label)
		}
	} else if err := schema.CheckLabel(nk.Label); err != nil {
		return nk, usagef("rotate: --label %s", err)
	} else if p.Key(nk.Label) != nil {
		return nk, withHint(fmt.Errorf("a key labelled %s already exists", nk.Label), "pick another with --label")
	}
	if nk.PrivateKeyPath == "" {
		if old.PrivateKeyPath == "" {
			return nk, withHint(fmt.Errorf("key %s has no private_key_path to put the new secret next to", old.Label),
				"pass --private-key-path /ABSOLUTE/PATH/%s.key (outside the repository)", nk.Name)
		}
		nk.PrivateKeyPath = filepath.Join(filepath.Dir(old.PrivateKeyPath), nk.Name+".key")
	} else if !filepath.IsAbs(nk.PrivateKeyPath) {
		return nk, usagef("rotate: --private-key-path %q must be an absolute path", nk.PrivateKeyPath)
	}
	nk.PrivateKeyPath = filepath.Clean(nk.PrivateKeyPath)
	if nk.PublicKeyFile == "" {
		dir := "keys"
		if old.PublicKeyFile != "" {
			dir = filepath.Dir(old.PublicKeyFile)
		}
		nk.PublicKeyFile = filepath.Join(dir, nk.Name+".pub")
	} else if !filepath.IsLocal(nk.PublicKeyFile) {
		return nk, usagef("rotate: --public-key-file %q must be a path inside the policy directory", nk.PublicKeyFile)
	}
	nk.PublicKeyFile = filepath.ToSlash(filepath.Clean(nk.PublicKeyFile))
	if _, err := os.Lstat(nk.PrivateKeyPath); err == nil {
		return nk, withHint(fmt.Errorf("private key file %s already exists; keyform never overwrites a private key", nk.PrivateKeyPath),
			"move it away, or choose another path with --private-key-path")
	}
	if _, err := os.Lstat(e.path(nk.PublicKeyFile)); err == nil {
		return nk, withHint(fmt.Errorf("public key file %s already exists", nk.PublicKeyFile), "remove it if it is stale, or choose another path with --public-key-file")
	}
	return nk, nil
}
