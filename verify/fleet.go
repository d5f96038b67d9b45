package verify

import (
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/policy"
)

// FleetReport is verify --config-dir's result, also its JSON form.
type FleetReport struct {
	Target  string         `json:"target"`
	Dir     string         `json:"dir"`
	OK      bool           `json:"ok"`
	Summary FleetSummary   `json:"summary"`
	Hosts   []FleetHostRow `json:"hosts"`
	// Skipped are the directory's entries that are not HOST.json or
	// HOST.txt files.
	Skipped []string `json:"skipped"`
}

// FleetSummary counts the hosts and says which lag a rotation.
type FleetSummary struct {
	Hosts      int `json:"hosts"`
	OK         int `json:"ok"`
	Failing    int `json:"failing"`
	Unreadable int `json:"unreadable"`
	// The hosts that lag a rotation, key by key, in the policy's order.
	RetiredTrusted      []FleetKeyLag   `json:"retired_trusted"`
	ActiveMissing       []FleetKeyLag   `json:"active_missing"`
	SubstitutersMissing []FleetSubstLag `json:"substituters_missing"`
	// InvalidKeys are the hosts trusting an entry Nix cannot parse.
	InvalidKeys []string `json:"invalid_keys"`
}

// FleetKeyLag is a key and the hosts behind on it.
type FleetKeyLag struct {
	Label     string   `json:"label"`
	PublicKey string   `json:"public_key"`
	Hosts     []string `json:"hosts"`
}

// FleetSubstLag is a substituter and the hosts that do not configure it.
type FleetSubstLag struct {
	URL   string   `json:"url"`
	Hosts []string `json:"hosts"`
}

// FleetHostRow is one host's verdict.
type FleetHostRow struct {
	Host string `json:"host"`
	File string `json:"file"`
	OK   bool   `json:"ok"`
	// Error says why the file could not be read; the checks are then
	// empty.
	Error string `json:"error,omitempty"`
	// Problems are short descriptions ("RETIRED acme_0"), as on the text
	// line.
	Problems     []string     `json:"problems"`
	Keys         []KeyCheck   `json:"keys"`
	Substituters []SubstCheck `json:"substituters"`
	Notes        []Note       `json:"notes"`
	InvalidKeys  []Note       `json:"invalid_keys"`
}

// Fleet checks every captured configuration (HOST.json or HOST.txt) in
// fsys, the directory dir, against target t (nixconf.CheckFleet). The
// error is for a directory that cannot be checked at all, named by dir,
// with how to capture a machine; a host whose file cannot be read is a
// row with Error.
func Fleet(t *policy.Target, dir string, fsys fs.FS) (*FleetReport, error) {
	fr, err := nixconf.CheckFleet(fsys, nixconf.WantOf(t))
	if err != nil {
		return nil, hint.Wrap(fmt.Errorf("%s: %w", dir, err),
			"capture each machine with: ssh HOST nix --extra-experimental-features nix-command config show --json > %s/HOST.json", dir)
	}
	return fleetReportOf(t, dir, fr), nil
}

func fleetReportOf(t *policy.Target, dir string, fr *nixconf.FleetReport) *FleetReport {
	r := &FleetReport{Target: t.ID(), Dir: dir, OK: fr.OK(), Hosts: []FleetHostRow{}, Skipped: append([]string{}, fr.Skipped...)}
	for _, h := range fr.Hosts {
		item := FleetHostRow{Host: h.Host, File: h.File, Problems: []string{}, Keys: []KeyCheck{}, Substituters: []SubstCheck{}, Notes: []Note{}, InvalidKeys: []Note{}}
		if h.Err != nil {
			item.Error = h.Err.Error()
			r.Summary.Unreadable++
		} else {
			vr := Of(t, h.Report)
			item.OK, item.Keys, item.Substituters, item.Notes, item.InvalidKeys = vr.OK, vr.Keys, vr.Substituters, vr.Notes, vr.InvalidKeys
			item.Problems = shortProblems(vr)
			if item.OK {
				r.Summary.OK++
			} else {
				r.Summary.Failing++
			}
		}
		r.Hosts = append(r.Hosts, item)
	}
	r.Summary.Hosts = len(r.Hosts)
	labels := map[string]string{}
	for _, k := range append(append([]*policy.Key{}, t.Keys...), t.Retired...) {
		labels[k.PublicKey] = k.Label
	}
	keyLag := func(lag []nixconf.KeyHosts) []FleetKeyLag {
		out := []FleetKeyLag{}
		for _, l := range lag {
			out = append(out, FleetKeyLag{Label: labels[l.Key], PublicKey: l.Key, Hosts: l.Hosts})
		}
		return out
	}
	r.Summary.RetiredTrusted = keyLag(fr.Lag.RetiredTrusted)
	r.Summary.ActiveMissing = keyLag(fr.Lag.ActiveMissing)
	r.Summary.SubstitutersMissing = []FleetSubstLag{}
	for _, l := range fr.Lag.SubstitutersMissing {
		r.Summary.SubstitutersMissing = append(r.Summary.SubstitutersMissing, FleetSubstLag{URL: l.Key, Hosts: l.Hosts})
	}
	r.Summary.InvalidKeys = append([]string{}, fr.Lag.Invalid...)
	return r
}

// shortProblems names a host's problems briefly, for its one line.
func shortProblems(r *Report) []string {
	out := []string{}
	for _, k := range r.Keys {
		switch k.Status {
		case string(nixconf.TrustMissing):
			out = append(out, "MISSING "+k.Label)
		case string(nixconf.TrustShadowed):
			out = append(out, "SHADOWED "+k.Label)
		case string(nixconf.TrustStillTrusted):
			out = append(out, "RETIRED "+k.Label+" still trusted")
		}
	}
	for _, s := range r.Substituters {
		if !s.OK {
			out = append(out, "MISSING substituter "+s.URL)
		}
	}
	if n := len(r.InvalidKeys); n > 0 {
		out = append(out, "INVALID "+plural(n, "trusted entry", "trusted entries"))
	}
	return out
}

// WriteText writes the report for people: one line per host, then a
// summary of the hosts that lag a rotation.
func (r *FleetReport) WriteText(w io.Writer) {
	for _, h := range r.Hosts {
		switch {
		case h.Error != "":
			fmt.Fprintf(w, "%s: unreadable (%s)\n", h.Host, h.File)
		case h.OK:
			fmt.Fprintf(w, "%s: ok (%s)\n", h.Host, h.File)
		default:
			fmt.Fprintf(w, "%s: %s (%s): %s\n", h.Host, plural(len(h.Problems), "problem", "problems"), h.File, strings.Join(h.Problems, ", "))
		}
	}
	s := r.Summary
	fmt.Fprintf(w, "%s on %s: %d ok, %d failing, %d unreadable\n", r.Target, plural(s.Hosts, "host", "hosts"), s.OK, s.Failing, s.Unreadable)
	for _, l := range s.RetiredTrusted {
		fmt.Fprintf(w, "  still trust retired key %s (%s): %s\n", l.Label, l.PublicKey, strings.Join(l.Hosts, " "))
	}
	for _, l := range s.ActiveMissing {
		fmt.Fprintf(w, "  miss active key %s (%s): %s\n", l.Label, l.PublicKey, strings.Join(l.Hosts, " "))
	}
	for _, l := range s.SubstitutersMissing {
		fmt.Fprintf(w, "  miss substituter %s: %s\n", l.URL, strings.Join(l.Hosts, " "))
	}
	if len(s.InvalidKeys) > 0 {
		fmt.Fprintf(w, "  trust an entry Nix cannot parse (every signature check fails): %s\n", strings.Join(s.InvalidKeys, " "))
	}
}

// HostErrors says why each unreadable host file could not be read, as
// "DIR: ERROR".
func (r *FleetReport) HostErrors() []string {
	var errs []string
	for _, h := range r.Hosts {
		if h.Error != "" {
			errs = append(errs, r.Dir+": "+h.Error)
		}
	}
	return errs
}

// SkippedNote says which entries of the directory were not checked, the
// first five by name; "" when none were skipped.
func (r *FleetReport) SkippedNote() string {
	n := len(r.Skipped)
	if n == 0 {
		return ""
	}
	verb := "are"
	if n == 1 {
		verb = "is"
	}
	names := r.Skipped
	if n > 5 {
		names = append(append([]string{}, names[:5]...), "...")
	}
	return fmt.Sprintf("skipped %s in %s that %s not HOST.json or HOST.txt: %s", plural(n, "entry", "entries"), r.Dir, verb, strings.Join(names, ", "))
}
