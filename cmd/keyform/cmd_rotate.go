package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/rotation"
	"github.com/keyform/keyform/schema"
)

func rotateCommand() *cli.Command {
	return &cli.Command{
		Name:  "rotate",
		Args:  "KEY [--name NAME] [--label LABEL] [--private-key-path ABSPATH] [--public-key-file PATH]",
		Short: "add a successor key next to KEY (the old key stays active)",
		Long: `Generates a new key pair, like keygen, and adds its key block right after
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
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o rotateOpts
			fs.StringVar(&o.name, "name", "", "Nix key `name` of the new key")
			fs.StringVar(&o.label, "label", "", "`label` of the new key block")
			fs.StringVar(&o.privatePath, "private-key-path", "", "absolute `path` for the new secret key")
			fs.StringVar(&o.publicFile, "public-key-file", "", "`path` for the new public key, relative to the policy directory")
			return func(e *cli.Env, args []string) error { return runRotate(e, o, args) }
		},
	}
}

type rotateOpts struct {
	name, label, privatePath, publicFile string
}

func runRotate(e *cli.Env, o rotateOpts, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("rotate takes exactly one KEY (a key label)")
	}
	p, err := loadPolicy(e, editOptions)
	if err != nil {
		return err
	}
	old, err := p.FindKey(args[0])
	if err != nil {
		return err
	}
	if err := schema.CheckRotatable(old); err != nil {
		return err
	}
	nk, err := successor(p, old, o)
	if err != nil {
		return err
	}
	es, err := newEditSet(e)
	if err != nil {
		return err
	}
	r, err := rotation.Rotate(keyFiles(e), es, old, nk, func() (*policy.Policy, error) { return loadEdited(e, es) })
	if err != nil {
		return err
	}
	r.Report(e, p)
	fmt.Fprintln(e.Stdout, r.PublicKey)
	return nil
}

// successor works out the new key's block from the flags and the defaults
// (schema.Successor).
func successor(p *policy.Policy, old *policy.Key, o rotateOpts) (schema.KeyBlock, error) {
	nk, err := schema.Successor(p, old, schema.KeyBlock{Label: o.label, Name: o.name, PrivateKeyPath: o.privatePath, PublicKeyFile: o.publicFile})
	if se := (*schema.SuccessorError)(nil); errors.As(err, &se) {
		return nk, successorError(old, nk, se)
	}
	return nk, err
}

// successorError says which flag to change.
func successorError(old *policy.Key, nk schema.KeyBlock, se *schema.SuccessorError) error {
	taken := errors.Is(se, schema.ErrTaken)
	switch {
	case se.Field == "name" && taken:
		return hint.Wrap(fmt.Errorf("the Nix key name %s is already used in the policy", se.Value), "every key needs its own name; pick another with --name")
	case se.Field == "name":
		return cli.Usagef("rotate: --name: %s", se.Err)
	case se.Field == "label" && taken:
		return hint.Wrap(fmt.Errorf("a key labelled %s already exists", se.Value), "pick another with --label")
	case se.Field == "label":
		return cli.Usagef("rotate: --label %s", se.Err)
	case errors.Is(se, schema.ErrNoDefault):
		return hint.Wrap(fmt.Errorf("key %s has no private_key_path to put the new secret next to", old.Label),
			"pass --private-key-path /ABSOLUTE/PATH/%s.key (outside the repository)", nk.Name)
	case se.Field == "private_key_path":
		return cli.Usagef("rotate: --private-key-path %q must be an absolute path", se.Value)
	}
	return cli.Usagef("rotate: --public-key-file %q must be a path inside the policy directory", se.Value)
}
