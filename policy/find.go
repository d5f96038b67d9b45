package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keyform/keyform/internal/hint"
)

// The lookups of things named on the command line: each error says what
// is missing and, as a hint, what the policy has instead.

// FindKey returns the key labelled label.
func (p *Policy) FindKey(label string) (*Key, error) {
	k := p.Key(label)
	if k == nil {
		return nil, hint.Wrap(fmt.Errorf("no key %q in the policy", label), "run \"keyform keys list\" to see the declared keys")
	}
	return k, nil
}

// FindGeneratedKey is FindKey for commands that need the key's public key.
func (p *Policy) FindGeneratedKey(label string) (*Key, error) {
	k, err := p.FindKey(label)
	if err == nil && k.Pending() {
		return nil, hint.Wrap(fmt.Errorf("key %s has no public key yet", k.Label), "generate it with \"keyform keygen %s\"", k.Label)
	}
	return k, err
}

// KeysToGenerate returns the keys keygen generates: those labelled, each
// once, else every key without a public key yet.
func (p *Policy) KeysToGenerate(labels []string) ([]*Key, error) {
	var ks []*Key
	if len(labels) == 0 {
		for _, k := range p.Keys {
			if k.Pending() {
				ks = append(ks, k)
			}
		}
	}
	for _, label := range labels {
		k, err := p.FindKey(label)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	return ks, nil
}

// GeneratedKeys returns the keys labelled, which must have public keys,
// else every key that has one.
func (p *Policy) GeneratedKeys(labels []string) ([]*Key, error) {
	var ks []*Key
	for _, label := range labels {
		k, err := p.FindGeneratedKey(label)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	if len(labels) == 0 {
		for _, k := range p.Keys {
			if !k.Pending() {
				ks = append(ks, k)
			}
		}
	}
	return ks, nil
}

// FindPublisher returns the publisher labelled label.
func (p *Policy) FindPublisher(label string) (*Publisher, error) {
	if pub := p.Publisher(label); pub != nil {
		return pub, nil
	}
	fix := "declare it with a publisher \"" + label + "\" { ... } block"
	if len(p.Publishers) > 0 {
		labels := make([]string, len(p.Publishers))
		for i, pub := range p.Publishers {
			labels[i] = pub.Label
		}
		fix = "the policy's publishers are: " + strings.Join(labels, ", ")
	}
	return nil, hint.Wrap(fmt.Errorf("no publisher %q in the policy", label), "%s", fix)
}

// FindTarget finds a target by ID ("nixconf.ci") or by a label that only
// one target has.
func (p *Policy) FindTarget(arg string) (*Target, error) {
	if t := p.Target(arg); t != nil {
		return t, nil
	}
	var found []*Target
	for _, t := range p.Targets {
		if t.Label == arg {
			found = append(found, t)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	ids := make([]string, len(p.Targets))
	for i, t := range p.Targets {
		ids[i] = t.ID()
	}
	if len(found) > 1 {
		return nil, hint.Wrap(fmt.Errorf("%q names more than one target", arg), "name it with its kind: %s", strings.Join(ids, ", "))
	}
	return nil, hint.Wrap(fmt.Errorf("no target %q in the policy", arg), "targets: %s", strings.Join(ids, ", "))
}

// RolloutHint says how the target's trust reaches its machines.
func (t *Target) RolloutHint() string {
	system := map[Kind]string{NixOS: "NixOS", Darwin: "nix-darwin", HomeManager: "home-manager"}[t.Kind]
	switch t.Kind {
	case NixOS, Darwin, HomeManager:
		rebuild := map[Kind]string{NixOS: "nixos-rebuild switch", Darwin: "darwin-rebuild switch", HomeManager: "home-manager switch"}[t.Kind]
		return fmt.Sprintf("run \"keyform render\", import the generated module in the %s configuration and run \"%s\"; \"keyform verify %s\" checks the result", system, rebuild, t.ID())
	case NixConf:
		return fmt.Sprintf("run \"keyform apply %s\" on the machine and restart the Nix daemon", t.ID())
	}
	return "declare a nixconf target for machines whose nix.conf keyform should edit"
}
