package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/nixconf"
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
	r := checkShownConfig(t, c)
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
	var lastErr error
	for _, sub := range [][]string{{"config", "show"}, {"show-config"}} {
		argv := append([]string{"--extra-experimental-features", "nix-command"}, sub...)
		argv = append(argv, "--json")
		cmd := exec.Command("nix", argv...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err == nil {
			return out, "nix " + strings.Join(sub, " "), nil
		}
		lastErr = fmt.Errorf("nix %s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil, "", withHint(lastErr, "check that nix works here (\"nix show-config\"), or pass captured output with --config FILE")
}

func checkShownConfig(t *policy.Target, c *nixconf.ShownConfig) *verifyReport {
	r := &verifyReport{Target: t.ID(), OK: true, Keys: []keyCheck{}, Substituters: []substCheck{}, Notes: []verifyNote{}}
	trusted, _ := c.List("trusted-public-keys")
	subs, _ := c.List("substituters")
	// Nix keeps the first key of each name.
	first := map[string]string{}
	has := map[string]bool{}
	for _, k := range trusted {
		has[k] = true
		if _, ok := first[nixconf.KeyName(k)]; !ok {
			first[nixconf.KeyName(k)] = k
		}
	}
	problem := func(line string) {
		r.OK = false
		r.problems = append(r.problems, line)
		r.lines = append(r.lines, line)
	}
	known := map[string]bool{}
	for _, k := range t.Keys {
		known[k.PublicKey] = true
		kc := keyCheck{Label: k.Label, PublicKey: k.PublicKey, State: string(k.State), Status: "ok", OK: true}
		switch {
		case !has[k.PublicKey]:
			kc.Status, kc.OK = "missing", false
			problem(fmt.Sprintf("MISSING  key %s (%s): not trusted", k.PublicKey, k.Label))
		case first[nixconf.KeyName(k.PublicKey)] != k.PublicKey:
			kc.Status, kc.OK = "shadowed", false
			problem(fmt.Sprintf("SHADOWED key %s (%s): %s has the same name and comes first, so Nix ignores the policy's key", k.PublicKey, k.Label, first[nixconf.KeyName(k.PublicKey)]))
		default:
			r.lines = append(r.lines, fmt.Sprintf("ok       key %s (%s)", k.PublicKey, k.Label))
		}
		r.Keys = append(r.Keys, kc)
	}
	for _, k := range t.Retired {
		known[k.PublicKey] = true
		kc := keyCheck{Label: k.Label, PublicKey: k.PublicKey, State: string(k.State), Status: "ok", OK: true}
		if has[k.PublicKey] {
			kc.Status, kc.OK = "trusted", false
			problem(fmt.Sprintf("RETIRED  key %s (%s): still trusted", k.PublicKey, k.Label))
		} else {
			r.lines = append(r.lines, fmt.Sprintf("ok       retired key %s (%s) not trusted", k.PublicKey, k.Label))
		}
		r.Keys = append(r.Keys, kc)
	}
	haveSub := map[string]bool{}
	for _, u := range subs {
		haveSub[strings.TrimRight(u, "/")] = true
	}
	for _, u := range t.Substituters {
		sc := substCheck{URL: u, Status: "ok", OK: true}
		if !haveSub[strings.TrimRight(u, "/")] {
			sc.Status, sc.OK = "missing", false
			problem(fmt.Sprintf("MISSING  substituter %s", u))
		} else {
			r.lines = append(r.lines, fmt.Sprintf("ok       substituter %s", u))
		}
		r.Substituters = append(r.Substituters, sc)
	}
	r.InvalidKeys = []verifyNote{}
	for _, k := range trusted {
		if why := nixconf.NixKeyProblem(k); why != "" {
			r.InvalidKeys = append(r.InvalidKeys, verifyNote{PublicKey: k, Message: why})
			problem(fmt.Sprintf("INVALID  key %s: %s; while it is trusted, Nix fails every signature check", k, why))
		}
	}
	seen := map[string]bool{}
	for _, k := range trusted {
		if known[k] || seen[k] || nixconf.NixKeyProblem(k) != "" {
			continue
		}
		seen[k] = true
		msg := "trusted, not named by this target"
		r.Notes = append(r.Notes, verifyNote{PublicKey: k, Message: msg})
		r.lines = append(r.lines, fmt.Sprintf("note     key %s: %s", k, msg))
	}
	return r
}
