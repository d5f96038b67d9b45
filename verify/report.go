// Package verify is "keyform verify": it checks what a machine's Nix
// trusts against a target of the policy and reports it, as text for people
// and as JSON for scripts. The configuration comes from captured "nix
// config show" output (Captured), from this machine's Nix run as a user
// (Machine, which adds what the daemon and the user's nix.conf files do),
// or from a directory of captured outputs, one per machine (Fleet). The
// checks themselves are nixconf's (CheckTrust, CheckFleet); this package
// names keys by their policy labels and says what each finding means.
package verify

import (
	"fmt"
	"io"
	"slices"

	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/policy"
)

// Report is the result of verify, also its JSON form.
type Report struct {
	Target string `json:"target"`
	Source string `json:"source"`
	// User is the user whose Nix ran, when verify ran nix.
	User         string       `json:"user,omitempty"`
	OK           bool         `json:"ok"`
	Keys         []KeyCheck   `json:"keys"`
	Substituters []SubstCheck `json:"substituters"`
	Notes        []Note       `json:"notes"`
	// InvalidKeys are trusted entries Nix cannot parse: while one is
	// trusted, every signature check fails.
	InvalidKeys []Note `json:"invalid_keys"`
	// Daemon is what the daemon makes of the user; UserConfig what the
	// user's nix.conf files do. Both null with captured output.
	Daemon     *DaemonReport   `json:"daemon"`
	UserConfig *UserConfReport `json:"user_config"`
	problems   []string        // text lines for the problems, in order
	lines      []string        // text lines for everything
}

// KeyCheck is the verdict on one key of the target.
type KeyCheck struct {
	Label     string `json:"label"`
	PublicKey string `json:"public_key"`
	State     string `json:"state"`
	// Status: ok, missing (active key not trusted), shadowed (active key
	// trusted after another key of its name, which Nix uses instead),
	// trusted (retired key still trusted).
	Status string `json:"status"`
	OK     bool   `json:"ok"`
}

// SubstCheck is the verdict on one substituter of the target.
type SubstCheck struct {
	URL    string `json:"url"`
	Status string `json:"status"` // ok, missing
	OK     bool   `json:"ok"`
}

// Note is a trusted key the report says something about.
type Note struct {
	PublicKey string `json:"public_key,omitempty"`
	Message   string `json:"message"`
}

// DaemonReport is whether the Nix daemon trusts the user, and what it
// therefore ignores.
type DaemonReport struct {
	// Store is the store URL Nix reports ("daemon", "local", ...) and
	// Version the Nix version behind it.
	Store   string `json:"store"`
	Version string `json:"version,omitempty"`
	// Source is the command that answered.
	Source string `json:"source"`
	// Trust: trusted, untrusted, unknown or no-daemon. Inferred: Nix did
	// not say, and verify matched trusted-users instead.
	Trust    string `json:"trust"`
	Inferred bool   `json:"inferred"`
	Message  string `json:"message"`
	// IgnoredKeys and IgnoredSubstituters are what only the user's own
	// configuration gives and an untrusting daemon does not apply.
	IgnoredKeys         []KeyRef `json:"ignored_keys"`
	IgnoredSubstituters []string `json:"ignored_substituters"`
	// Error says why the store could not be asked (the rest is then
	// empty).
	Error string `json:"error,omitempty"`
}

// KeyRef names a key of the policy.
type KeyRef struct {
	Label     string `json:"label"`
	PublicKey string `json:"public_key"`
}

// UserConfReport is what the user's nix.conf files do to the system's.
type UserConfReport struct {
	// Read are the files (and NIX_CONFIG) Nix reads, in order.
	Read []string `json:"read"`
	// Replaced are the user's plain lines that drop the system's values.
	Replaced []nixconf.Replacement `json:"replaced"`
	Error    string                `json:"error,omitempty"`
}

// Of turns nixconf's verdict on target t into a report, naming keys by
// their policy labels.
func Of(t *policy.Target, tr *nixconf.TrustReport) *Report {
	r := &Report{Target: t.ID(), OK: true, Keys: []KeyCheck{}, Substituters: []SubstCheck{}, Notes: []Note{}, InvalidKeys: []Note{}}
	// tr.Keys has the target's active keys, then its retired ones.
	for i, k := range slices.Concat(t.Keys, t.Retired) {
		kc := tr.Keys[i]
		r.Keys = append(r.Keys, KeyCheck{Label: k.Label, PublicKey: k.PublicKey, State: string(k.State), Status: string(kc.Status), OK: kc.Status == nixconf.TrustOK})
		switch kc.Status {
		case nixconf.TrustMissing:
			r.problem(fmt.Sprintf("MISSING  key %s (%s): not trusted", k.PublicKey, k.Label))
		case nixconf.TrustShadowed:
			r.problem(fmt.Sprintf("SHADOWED key %s (%s): %s has the same name and comes first, so Nix ignores the policy's key", k.PublicKey, k.Label, kc.By))
		case nixconf.TrustStillTrusted:
			r.problem(fmt.Sprintf("RETIRED  key %s (%s): still trusted", k.PublicKey, k.Label))
		default:
			if kc.Retired {
				r.lines = append(r.lines, fmt.Sprintf("ok       retired key %s (%s) not trusted", k.PublicKey, k.Label))
			} else {
				r.lines = append(r.lines, fmt.Sprintf("ok       key %s (%s)", k.PublicKey, k.Label))
			}
		}
	}
	for _, sc := range tr.Substituters {
		if sc.Configured {
			r.Substituters = append(r.Substituters, SubstCheck{URL: sc.URL, Status: "ok", OK: true})
			r.lines = append(r.lines, fmt.Sprintf("ok       substituter %s", sc.URL))
		} else {
			r.Substituters = append(r.Substituters, SubstCheck{URL: sc.URL, Status: "missing"})
			r.problem(fmt.Sprintf("MISSING  substituter %s", sc.URL))
		}
	}
	for _, k := range tr.Invalid {
		r.InvalidKeys = append(r.InvalidKeys, Note{PublicKey: k.Value, Message: k.Why})
		r.problem(fmt.Sprintf("INVALID  key %s: %s; while it is trusted, Nix fails every signature check", k.Value, k.Why))
	}
	for _, it := range tr.Others {
		msg := "trusted, not named by this target"
		r.Notes = append(r.Notes, Note{PublicKey: it.Value, Message: msg})
		r.lines = append(r.lines, fmt.Sprintf("note     key %s: %s", it.Value, msg))
	}
	return r
}

func (r *Report) problem(line string) {
	r.OK = false
	r.problems = append(r.problems, line)
	r.lines = append(r.lines, line)
}

// WriteText writes the report for people: a verdict line, then one
// indented line per check, problem and note.
func (r *Report) WriteText(w io.Writer) {
	if r.OK {
		fmt.Fprintf(w, "%s: ok (%s)\n", r.Target, r.Source)
	} else {
		fmt.Fprintf(w, "%s: %s (%s)\n", r.Target, plural(len(r.problems), "problem", "problems"), r.Source)
	}
	for _, l := range r.lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// Hints say how to fix what a failed report found, for t.
func (r *Report) Hints(t *policy.Target) []string {
	hints := []string{t.RolloutHint()}
	if r.Daemon != nil && len(r.Daemon.IgnoredKeys)+len(r.Daemon.IgnoredSubstituters) > 0 {
		hints = append(hints, "what the daemon ignores belongs in the system's configuration (a nixconf, nixos or darwin target); trusted-users would also do, but makes the user root-equivalent for the store")
	}
	if r.UserConfig != nil && len(r.UserConfig.Replaced) > 0 {
		hints = append(hints, "make the plain lines of the warnings above extra- lines, which add to the system's values instead of replacing them")
	}
	return hints
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
