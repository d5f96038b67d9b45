package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/policy"
)

// fleetReport is verify --config-dir's result, also its JSON form.
type fleetReport struct {
	Target  string          `json:"target"`
	Dir     string          `json:"dir"`
	OK      bool            `json:"ok"`
	Summary fleetSummary    `json:"summary"`
	Hosts   []fleetHostItem `json:"hosts"`
	// Skipped are the directory's entries that are not HOST.json or
	// HOST.txt files.
	Skipped []string `json:"skipped"`
}

type fleetSummary struct {
	Hosts      int `json:"hosts"`
	OK         int `json:"ok"`
	Failing    int `json:"failing"`
	Unreadable int `json:"unreadable"`
	// The hosts that lag a rotation, key by key, in the policy's order.
	RetiredTrusted      []fleetKeyLag   `json:"retired_trusted"`
	ActiveMissing       []fleetKeyLag   `json:"active_missing"`
	SubstitutersMissing []fleetSubstLag `json:"substituters_missing"`
	// InvalidKeys are the hosts trusting an entry Nix cannot parse.
	InvalidKeys []string `json:"invalid_keys"`
}

type fleetKeyLag struct {
	Label     string   `json:"label"`
	PublicKey string   `json:"public_key"`
	Hosts     []string `json:"hosts"`
}

type fleetSubstLag struct {
	URL   string   `json:"url"`
	Hosts []string `json:"hosts"`
}

type fleetHostItem struct {
	Host string `json:"host"`
	File string `json:"file"`
	OK   bool   `json:"ok"`
	// Error says why the file could not be read; the checks are then
	// empty.
	Error string `json:"error,omitempty"`
	// Problems are short descriptions ("RETIRED acme_0"), as on the text
	// line.
	Problems     []string     `json:"problems"`
	Keys         []keyCheck   `json:"keys"`
	Substituters []substCheck `json:"substituters"`
	Notes        []verifyNote `json:"notes"`
	InvalidKeys  []verifyNote `json:"invalid_keys"`
}

// runVerifyFleet checks every captured configuration in --config-dir:
// one line per host, then which hosts lag a rotation. Unreadable files
// are named on standard error and make the exit status 2.
func runVerifyFleet(e *cli.Env, o verifyOpts, t *policy.Target) error {
	fr, err := nixconf.CheckFleet(os.DirFS(e.Path(o.configDir)), wantOf(t))
	if err != nil {
		return hint.Wrap(fmt.Errorf("--config-dir %s: %w", o.configDir, err),
			"capture each machine with: ssh HOST nix --extra-experimental-features nix-command config show --json > %s/HOST.json", o.configDir)
	}
	r := fleetReportOf(t, o.configDir, fr)
	if o.json {
		if err := e.PrintJSON(r); err != nil {
			return err
		}
	} else {
		printFleet(e, t, r)
	}
	for _, h := range fr.Hosts {
		if h.Err != nil {
			e.Printf("%s: %v", o.configDir, h.Err)
		}
	}
	if len(r.Skipped) > 0 {
		e.Notef("skipped %s in %s that %s not HOST.json or HOST.txt: %s", cli.Plural(len(r.Skipped), "entry", "entries"), o.configDir,
			map[bool]string{true: "is", false: "are"}[len(r.Skipped) == 1], strings.Join(firstN(r.Skipped, 5), ", "))
	}
	switch {
	case r.Summary.Unreadable > 0:
		return cli.ErrInvalid
	case !r.OK:
		return cli.ErrDiffers
	}
	return nil
}

func fleetReportOf(t *policy.Target, dir string, fr *nixconf.FleetReport) *fleetReport {
	r := &fleetReport{Target: t.ID(), Dir: dir, OK: fr.OK(), Hosts: []fleetHostItem{}, Skipped: append([]string{}, fr.Skipped...)}
	for _, h := range fr.Hosts {
		item := fleetHostItem{Host: h.Host, File: h.File, Problems: []string{}, Keys: []keyCheck{}, Substituters: []substCheck{}, Notes: []verifyNote{}, InvalidKeys: []verifyNote{}}
		if h.Err != nil {
			item.Error = h.Err.Error()
			r.Summary.Unreadable++
		} else {
			vr := verifyReportOf(t, h.Report)
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
	keyLag := func(lag []nixconf.KeyHosts) []fleetKeyLag {
		out := []fleetKeyLag{}
		for _, l := range lag {
			out = append(out, fleetKeyLag{Label: labels[l.Key], PublicKey: l.Key, Hosts: l.Hosts})
		}
		return out
	}
	r.Summary.RetiredTrusted = keyLag(fr.Lag.RetiredTrusted)
	r.Summary.ActiveMissing = keyLag(fr.Lag.ActiveMissing)
	r.Summary.SubstitutersMissing = []fleetSubstLag{}
	for _, l := range fr.Lag.SubstitutersMissing {
		r.Summary.SubstitutersMissing = append(r.Summary.SubstitutersMissing, fleetSubstLag{URL: l.Key, Hosts: l.Hosts})
	}
	r.Summary.InvalidKeys = append([]string{}, fr.Lag.Invalid...)
	return r
}

// shortProblems names a host's problems briefly, for its one line.
func shortProblems(r *verifyReport) []string {
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
		out = append(out, "INVALID "+cli.Plural(n, "trusted entry", "trusted entries"))
	}
	return out
}

func printFleet(e *cli.Env, t *policy.Target, r *fleetReport) {
	w := e.Stdout
	for _, h := range r.Hosts {
		switch {
		case h.Error != "":
			fmt.Fprintf(w, "%s: unreadable (%s)\n", h.Host, h.File)
		case h.OK:
			fmt.Fprintf(w, "%s: ok (%s)\n", h.Host, h.File)
		default:
			fmt.Fprintf(w, "%s: %s (%s): %s\n", h.Host, cli.Plural(len(h.Problems), "problem", "problems"), h.File, strings.Join(h.Problems, ", "))
		}
	}
	s := r.Summary
	fmt.Fprintf(w, "%s on %s: %d ok, %d failing, %d unreadable\n", t.ID(), cli.Plural(s.Hosts, "host", "hosts"), s.OK, s.Failing, s.Unreadable)
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

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string{}, s[:n]...), "...")
}
