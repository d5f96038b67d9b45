package nixconf

import (
	"fmt"
	"strings"
)

// Conflict is a problem in the effective configuration that keyform will
// not fix by itself.
type Conflict struct {
	Pos  Pos
	Key  string
	Msg  string
	Hint string
}

func (c Conflict) String() string {
	if c.Pos.File == "" {
		return c.Msg
	}
	return fmt.Sprintf("%s: %s", c.Pos, c.Msg)
}

// TrustStatus is what CheckTrust found for one key of a Want.
type TrustStatus string

const (
	// TrustOK: an active key is trusted and is the key Nix uses for its
	// name; a retired key is not trusted.
	TrustOK TrustStatus = "ok"
	// TrustMissing: an active key is not trusted.
	TrustMissing TrustStatus = "missing"
	// TrustShadowed: an active key is trusted after another key of its
	// name, which Nix uses instead.
	TrustShadowed TrustStatus = "shadowed"
	// TrustStillTrusted: a retired key is still trusted.
	TrustStillTrusted TrustStatus = "trusted"
)

// KeyCheck is the verdict on one key of a Want.
type KeyCheck struct {
	Key     string
	Retired bool
	Status  TrustStatus
	// By is the key of the same name that Nix uses instead (TrustShadowed).
	By string
}

// SubstituterCheck is the verdict on one substituter of a Want.
type SubstituterCheck struct {
	URL        string
	Configured bool
}

// InvalidKey is a trusted entry Nix cannot parse as a public key: while
// one is trusted, Nix fails every signature check.
type InvalidKey struct {
	Item
	Why string
}

// TrustReport is CheckTrust's verdict on effective settings.
type TrustReport struct {
	// Keys has one check per key of the Want: its Keys in order, then its
	// Retired keys in order.
	Keys []KeyCheck
	// Substituters has one check per substituter of the Want, in order.
	Substituters []SubstituterCheck
	// Invalid lists every trusted entry Nix cannot parse, duplicates kept.
	Invalid []InvalidKey
	// Others are the trusted keys the Want does not name, each once, in
	// Nix's order (invalid ones are in Invalid instead).
	Others []Item
	// Conflicts are what keeps a nix.conf from giving the target its trust,
	// the way apply refuses a patch: every place a retired key is still
	// trusted, missing keys and substituters, and every other key under
	// the name of a needed one, shadowing it or shadowed by it (a replaced
	// key to clean up). Invalid entries are not conflicts: Evaluate warns
	// about them.
	Conflicts []Conflict
}

// OK reports whether the settings give the Want exactly its trust: every
// key and substituter check passes and no trusted entry is invalid. This is
// what "keyform verify" asks; a later key under a needed key's name is a
// Conflict but does not make the report fail, since Nix uses the needed key.
func (r *TrustReport) OK() bool { return r.Problems() == 0 }

// Problems counts the failed key and substituter checks and the invalid
// entries.
func (r *TrustReport) Problems() int {
	n := len(r.Invalid)
	for _, k := range r.Keys {
		if k.Status != TrustOK {
			n++
		}
	}
	for _, s := range r.Substituters {
		if !s.Configured {
			n++
		}
	}
	return n
}

// CheckTrust compares effective settings, from Evaluate or from "nix config
// show" (ShownConfig.Settings), with what want needs: active keys trusted
// and first of their name (Nix keeps the first key of each name), retired
// keys not trusted, substituters configured (with or without a trailing
// slash), and lists the invalid and the other trusted keys.
func CheckTrust(want Want, eff *Settings) *TrustReport {
	r := checkWant(want, eff)
	named := make(map[string]bool, len(want.Keys)+len(want.Retired))
	for _, k := range want.Keys {
		named[k] = true
	}
	for _, k := range want.Retired {
		named[k] = true
	}
	seen := map[string]bool{}
	for _, it := range eff.TrustedPublicKeys {
		if why := NixKeyProblem(it.Value); why != "" {
			r.Invalid = append(r.Invalid, InvalidKey{Item: it, Why: why})
			continue
		}
		if named[it.Value] || seen[it.Value] {
			continue
		}
		seen[it.Value] = true
		r.Others = append(r.Others, it)
	}
	return r
}

// checkWant is CheckTrust without Invalid and Others, which Patch does not
// need: it checks every patch, and a large nix.conf trusts tens of
// thousands of keys.
func checkWant(want Want, eff *Settings) *TrustReport {
	r := &TrustReport{
		Keys:         make([]KeyCheck, 0, len(want.Keys)+len(want.Retired)),
		Substituters: make([]SubstituterCheck, 0, len(want.Substituters)),
	}
	retired := make(map[string]bool, len(want.Retired))
	for _, k := range want.Retired {
		retired[k] = true
	}
	// trusted records which wanted keys (active or retired) are trusted;
	// only they are recorded, so the maps stay the size of the Want.
	trusted := make(map[string]bool, len(want.Keys)+len(want.Retired))
	for _, k := range want.Keys {
		trusted[k] = false
	}
	for _, k := range want.Retired {
		trusted[k] = false
	}
	byName := map[string]string{}
	for _, k := range want.Keys {
		byName[KeyName(k)] = k
	}
	// first is the first trusted key of each needed name: Nix keeps that
	// one.
	first := map[string]string{}
	clashed := map[string]bool{}
	var stillTrusted, clashes []Conflict
	for _, it := range eff.TrustedPublicKeys {
		if _, ok := trusted[it.Value]; ok {
			trusted[it.Value] = true
		}
		if retired[it.Value] {
			stillTrusted = append(stillTrusted, retiredConflict(it, eff.shown))
		}
		name := KeyName(it.Value)
		needed, ok := byName[name]
		if !ok {
			continue
		}
		if _, ok := first[name]; !ok {
			first[name] = it.Value
		}
		if it.Value == needed || clashed[it.Value] {
			continue
		}
		clashed[it.Value] = true
		clashes = append(clashes, clashConflict(it, name, needed, first[name] == it.Value))
	}

	var missing []Conflict
	for _, k := range want.Keys {
		c := KeyCheck{Key: k, Status: TrustOK}
		switch {
		case !trusted[k]:
			c.Status = TrustMissing
			missing = append(missing, Conflict{Key: k, Msg: fmt.Sprintf("key %s is not trusted", k)})
		case first[KeyName(k)] != k:
			c.Status, c.By = TrustShadowed, first[KeyName(k)]
		}
		r.Keys = append(r.Keys, c)
	}
	for _, k := range want.Retired {
		c := KeyCheck{Key: k, Retired: true, Status: TrustOK}
		if trusted[k] {
			c.Status = TrustStillTrusted
		}
		r.Keys = append(r.Keys, c)
	}

	haveSub := make(map[string]bool, len(eff.Substituters))
	for _, it := range eff.Substituters {
		haveSub[normURL(it.Value)] = true
	}
	var missingSub []Conflict
	for _, u := range want.Substituters {
		ok := haveSub[normURL(u)]
		r.Substituters = append(r.Substituters, SubstituterCheck{URL: u, Configured: ok})
		if !ok {
			missingSub = append(missingSub, Conflict{Key: u, Msg: fmt.Sprintf("substituter %s is not configured", u)})
		}
	}
	for _, cs := range [][]Conflict{stillTrusted, missing, missingSub, clashes} {
		r.Conflicts = append(r.Conflicts, cs...)
	}
	return r
}

func retiredConflict(it Item, shown bool) Conflict {
	hint := fmt.Sprintf("remove it from %s", it.Pos)
	switch {
	case shown:
		hint = "remove it from the nix.conf that sets it (nix config show does not say which)"
	case it.Pos.File == "":
		hint = "Nix trusts it by default; set trusted-public-keys explicitly to stop that"
	}
	return Conflict{Pos: it.Pos, Key: it.Value, Msg: fmt.Sprintf("retired key %s is still trusted", it.Value), Hint: hint}
}

// clashConflict is a trusted key that shares a name with the needed key
// but differs from it. Nix keeps the first key of each name and silently
// ignores the rest, so one of the two is not trusted.
func clashConflict(it Item, name, needed string, first bool) Conflict {
	who := "it comes after the policy's key, so Nix ignores it"
	if first {
		who = fmt.Sprintf("and it comes first, so Nix ignores the policy's key %s", needed)
	}
	return Conflict{
		Pos: it.Pos, Key: it.Value,
		Msg:  fmt.Sprintf("%s has the name %q of a policy key but different key bytes, %s", it.Value, name, who),
		Hint: fmt.Sprintf("if it is an old key of this cache, declare it in the policy with state = \"retired\" so keyform removes it, or delete it from %s", it.Pos),
	}
}

// trustedAmong returns which of keys eff trusts, as a set.
func trustedAmong(eff *Settings, keys []string) map[string]bool {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = false
	}
	have := make(map[string]bool, len(keys))
	for _, it := range eff.TrustedPublicKeys {
		if _, ok := want[it.Value]; ok {
			have[it.Value] = true
		}
	}
	return have
}

// KeyName is the part of a public key before the first colon, as Nix
// splits it.
func KeyName(k string) string {
	name, _, _ := strings.Cut(k, ":")
	return name
}

// normURL compares substituter URLs as the same cache with or without a
// trailing slash, as verify always has.
func normURL(u string) string { return strings.TrimRight(u, "/") }
