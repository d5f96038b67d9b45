package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
)

func retireCommand() *command {
	return &command{
		name:  "retire",
		args:  "KEY",
		short: "mark KEY retired: every target stops trusting it",
		long: `Sets state = "retired" in KEY's block (adding the attribute if needed),
keeping the file's comments and layout. A retired key is trusted by no
target, and nix.conf patches remove it from machines.

Refused while a target lists key.KEY directly in its trust list (remove it
from there first) or a publisher still signs with it. Warns when KEY is the
last active key of its catalog: the catalog's caches would be trusted
nowhere. Retire only after the successor (keyform rotate) is rolled out.`,
		setup: func(*flag.FlagSet) runFunc { return runRetire },
	}
}

func runRetire(e *env, args []string) error {
	if len(args) != 1 {
		return usagef("retire takes exactly one KEY (a key label)")
	}
	p, err := loadPolicy(e, editOptions)
	if err != nil {
		return err
	}
	k, err := findKey(p, args[0])
	if err != nil {
		return err
	}
	if k.State == policy.Retired {
		e.printf("key %s is already retired; nothing to do", k.Label)
		return nil
	}
	ref := policy.Ref{Type: "key", Label: k.Label}
	var direct, at []string
	for _, t := range p.Targets {
		if slices.Contains(t.Trust, ref) {
			direct = append(direct, t.ID())
			at = append(at, t.Pos.String())
		}
	}
	if len(direct) > 0 {
		return withHint(fmt.Errorf("key %s is trusted directly by %s, and a retired key may not be trusted", k.Label, strings.Join(direct, ", ")),
			"remove key.%s from the trust list of %s (%s), then run \"keyform retire %s\" again", k.Label, strings.Join(direct, ", "), strings.Join(at, ", "), k.Label)
	}
	var signers []string
	for _, pub := range p.Publishers {
		if slices.Contains(pub.Keys, k.Label) {
			signers = append(signers, pub.Label)
		}
	}
	if len(signers) > 0 {
		return withHint(fmt.Errorf("publisher %s still signs with key %s", strings.Join(signers, ", "), k.Label),
			"remove key.%s from the keys of publisher %s, then run \"keyform retire %s\" again", k.Label, strings.Join(signers, ", "), k.Label)
	}
	if k.Catalog != "" && lastActive(p, k) {
		e.warnf("key %s is the last active key of catalog %s: once this is applied, nothing signed for its caches is trusted anywhere", k.Label, k.Catalog)
		e.hintf("add a successor first (keyform rotate %s) unless the catalog is being shut down", k.Label)
	}

	pe := newPolicyEdit(e, editOptions)
	src, err := pe.current(k.Pos.File)
	if err != nil {
		return err
	}
	out, err := schema.SetKeyState(src, k.Pos.File, k.Label, policy.Retired)
	if err != nil {
		return err
	}
	pe.set(k.Pos.File, out)
	edited, err := pe.validate(e)
	if err != nil {
		return err
	}
	if ek := edited.Key(k.Label); ek == nil || ek.State != policy.Retired {
		return fmt.Errorf("the edited policy does not show key %s retired; nothing was written (a keyform bug)", k.Label)
	}
	if err := pe.write(); err != nil {
		return err
	}
	e.printf("key %s (%s) retired in %s", k.Label, k.Name, k.Pos.File)
	e.nextf("review with \"keyform plan\"; once applied, no machine trusts %s", k.Name)
	return nil
}

// lastActive reports whether k is the only active key of its catalog.
func lastActive(p *policy.Policy, k *policy.Key) bool {
	for _, o := range p.Keys {
		if o != k && o.Catalog == k.Catalog && o.State == policy.Active {
			return false
		}
	}
	return true
}
