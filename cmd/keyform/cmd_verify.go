package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"

	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
)

func verifyCommand() *command {
	return &command{
		name:  "verify",
		args:  "TARGET [--config FILE|-] [--json]",
		short: "check that a machine's Nix trusts exactly what a target says",
		long: `Reads the effective Nix configuration of this machine, by running
"nix config show --json" (or "nix show-config --json" on Nix before 2.20), or
from --config FILE ("-" for standard input) holding that output, in text or
JSON form, captured elsewhere. Then checks it against the target, whatever
its kind: every active key trusted, no retired key trusted, every substituter
of the target's catalogs configured. Other trusted keys are listed as notes.

Exit status: 0 the machine matches, 1 it does not (each problem is listed),
2 nix could not be run or its output not read. --json prints the report as
JSON for fleet scripts.

nix config show shows what a Nix client reads. The daemon reads nix.conf when
it starts: restart it after changing the file.`,
		setup: func(fs *flag.FlagSet) runFunc {
			var o verifyOpts
			fs.StringVar(&o.config, "config", "", "read nix config show output from `file` (\"-\": standard input) instead of running nix")
			fs.BoolVar(&o.json, "json", false, "print the report as JSON")
			return func(e *env, args []string) error { return runVerify(e, o, args) }
		},
	}
}

type verifyOpts struct {
	config string
	json   bool
}

// verifyReport is the result of verify, also its JSON form.
type verifyReport struct {
	Target       string       `json:"target"`
	Source       string       `json:"source"`
	OK           bool         `json:"ok"`
	Keys         []keyCheck   `json:"keys"`
	Substituters []substCheck `json:"substituters"`
	Notes        []verifyNote `json:"notes"`
	// InvalidKeys are trusted entries Nix cannot parse: while one is
	// trusted, every signature check fails.
	InvalidKeys []verifyNote `json:"invalid_keys"`
	problems    []string     // text lines for the problems, in order
	lines       []string     // text lines for everything
}

type keyCheck struct {
	Label     string `json:"label"`
	PublicKey string `json:"public_key"`
	State     string `json:"state"`
	// Status: ok, missing (active key not trusted), shadowed (active key
	// trusted after another key of its name, which Nix uses instead),
	// trusted (retired key still trusted).
	Status string `json:"status"`
	OK     bool   `json:"ok"`
}

type substCheck struct {
	URL    string `json:"url"`
	Status string `json:"status"` // ok, missing
	OK     bool   `json:"ok"`
}

type verifyNote struct {
	PublicKey string `json:"public_key,omitempty"`
	Message   string `json:"message"`
}

func runVerify(e *env, o verifyOpts, args []string) error {
	if len(args) != 1 {
		return usagef("verify needs exactly one TARGET, for example nixconf.ci_runners")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	t, err := findTarget(p, args[0])
	if err != nil {
		return err
	}
	data, source, err := readShownConfig(e, o.config)
	if err != nil {
		return err
	}
	c, err := nixconf.ParseShowConfig(data)
	if err != nil {
		return withHint(fmt.Errorf("%s: %w", source, err), "give the output of \"nix config show\" (or \"nix show-config\"), text or --json")
	}
	r := verifyReportOf(t, nixconf.CheckTrust(wantOf(t), c.Settings()))
	r.Source = source
	if o.json {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		e.stdout.Write(append(b, '\n'))
	} else {
		if r.OK {
			fmt.Fprintf(e.stdout, "%s: ok (%s)\n", t.ID(), source)
		} else {
			fmt.Fprintf(e.stdout, "%s: %s (%s)\n", t.ID(), plural(len(r.problems), "problem", "problems"), source)
		}
		for _, l := range r.lines {
			fmt.Fprintf(e.stdout, "  %s\n", l)
		}
	}
	if !r.OK {
		if !o.json {
			e.hintf("%s", rolloutHint(t))
		}
		return errDiffers
	}
	return nil
}

// readShownConfig returns nix config show output: from a file, stdin, or
// by running nix, and names where it came from.
func readShownConfig(e *env, config string) ([]byte, string, error) {
	switch config {
	case "-":
		b, err := io.ReadAll(io.LimitReader(e.stdin, 16<<20))
		return b, "standard input", err
	case "":
	default:
		b, err := os.ReadFile(e.path(config))
		if err != nil {
			return nil, "", err
		}
		return b, config, nil
	}
	if _, err := exec.LookPath("nix"); err != nil {
		return nil, "", withHint(errors.New("nix is not on PATH, so verify cannot read this machine's configuration"),
			"run verify where Nix runs, or capture \"nix config show\" there and pass it with --config FILE")
	}
	out, source, err := host(e).ReadShownConfig()
	if err != nil {
		return nil, "", withHint(err, "check that nix works here (\"nix show-config\"), or pass captured output with --config FILE")
	}
	return out, source, nil
}

// verifyReportOf turns nixconf's verdict into verify's report, naming keys
// by their policy labels.
func verifyReportOf(t *policy.Target, tr *nixconf.TrustReport) *verifyReport {
	r := &verifyReport{Target: t.ID(), OK: true, Keys: []keyCheck{}, Substituters: []substCheck{}, Notes: []verifyNote{}, InvalidKeys: []verifyNote{}}
	problem := func(line string) {
		r.OK = false
		r.problems = append(r.problems, line)
		r.lines = append(r.lines, line)
	}
	// tr.Keys has the target's active keys, then its retired ones.
	for i, k := range slices.Concat(t.Keys, t.Retired) {
		kc := tr.Keys[i]
		r.Keys = append(r.Keys, keyCheck{Label: k.Label, PublicKey: k.PublicKey, State: string(k.State), Status: string(kc.Status), OK: kc.Status == nixconf.TrustOK})
		switch kc.Status {
		case nixconf.TrustMissing:
			problem(fmt.Sprintf("MISSING  key %s (%s): not trusted", k.PublicKey, k.Label))
		case nixconf.TrustShadowed:
			problem(fmt.Sprintf("SHADOWED key %s (%s): %s has the same name and comes first, so Nix ignores the policy's key", k.PublicKey, k.Label, kc.By))
		case nixconf.TrustStillTrusted:
			problem(fmt.Sprintf("RETIRED  key %s (%s): still trusted", k.PublicKey, k.Label))
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
			r.Substituters = append(r.Substituters, substCheck{URL: sc.URL, Status: "ok", OK: true})
			r.lines = append(r.lines, fmt.Sprintf("ok       substituter %s", sc.URL))
		} else {
			r.Substituters = append(r.Substituters, substCheck{URL: sc.URL, Status: "missing"})
			problem(fmt.Sprintf("MISSING  substituter %s", sc.URL))
		}
	}
	for _, k := range tr.Invalid {
		r.InvalidKeys = append(r.InvalidKeys, verifyNote{PublicKey: k.Value, Message: k.Why})
		problem(fmt.Sprintf("INVALID  key %s: %s; while it is trusted, Nix fails every signature check", k.Value, k.Why))
	}
	for _, it := range tr.Others {
		msg := "trusted, not named by this target"
		r.Notes = append(r.Notes, verifyNote{PublicKey: it.Value, Message: msg})
		r.lines = append(r.lines, fmt.Sprintf("note     key %s: %s", it.Value, msg))
	}
	return r
}
