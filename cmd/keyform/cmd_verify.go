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

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/policy"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Args:  "TARGET [--config FILE|- | --config-dir DIR | --user NAME] [--json]",
		Short: "check that a machine's Nix trusts exactly what a target says",
		Long: `Reads the effective Nix configuration of this machine, by running
"nix config show --json" (or "nix show-config --json" on Nix before 2.20), or
from --config FILE ("-" for standard input) holding that output, in text or
JSON form, captured elsewhere. Then checks it against the target, whatever
its kind: every active key trusted, no retired key trusted, every substituter
of the target's catalogs configured. Other trusted keys are listed as notes.

Run here, it also asks Nix whether the daemon trusts you ("nix store info
--json"; "nix store ping" before 2.19; Nix before 2.15 cannot say, and verify
then matches you against trusted-users): a daemon ignores the
trusted-public-keys of a user it does not trust, and the substituters that
its own configuration does not list, so verify names the target's keys and
substituters that only your nix.conf gives you. And it reads your nix.conf
files (~/.config/nix/nix.conf, $XDG_CONFIG_DIRS, $NIX_USER_CONF_FILES,
$NIX_CONFIG) and warns about a plain trusted-public-keys or substituters
line there that drops what the system's nix.conf sets.

--user NAME (root only) runs nix as that user, with their home directory and
a login's default environment, to check what their Nix really trusts.

--config-dir DIR checks a fleet: every HOST.json or HOST.txt in DIR is one
machine's captured "nix config show" output. verify prints one line per host
and a summary of the hosts that lag a rotation.

Exit status: 0 the machine (every host) matches, 1 it does not (each problem
is listed), 2 nix could not be run or its output (a host's file) not read.
--json prints the report as JSON for scripts and dashboards.

nix config show shows what a Nix client reads. The daemon reads nix.conf when
it starts: restart it after changing the file.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o verifyOpts
			fs.StringVar(&o.config, "config", "", "read nix config show output from `file` (\"-\": standard input) instead of running nix")
			fs.StringVar(&o.configDir, "config-dir", "", "check every HOST.json / HOST.txt (captured nix config show output) in `dir`")
			fs.StringVar(&o.user, "user", "", "run nix as user `name` (needs root)")
			fs.BoolVar(&o.json, "json", false, "print the report as JSON")
			return func(e *cli.Env, args []string) error { return runVerify(e, o, args) }
		},
	}
}

type verifyOpts struct {
	config, configDir, user string
	json                    bool
}

// maxShownConfig bounds one captured nix config show output: a real one
// is tens of kilobytes.
const maxShownConfig = nixconf.MaxShownConfigSize

// verifyReport is the result of verify, also its JSON form.
type verifyReport struct {
	Target string `json:"target"`
	Source string `json:"source"`
	// User is the user whose Nix ran, when verify ran nix.
	User         string       `json:"user,omitempty"`
	OK           bool         `json:"ok"`
	Keys         []keyCheck   `json:"keys"`
	Substituters []substCheck `json:"substituters"`
	Notes        []verifyNote `json:"notes"`
	// InvalidKeys are trusted entries Nix cannot parse: while one is
	// trusted, every signature check fails.
	InvalidKeys []verifyNote `json:"invalid_keys"`
	// Daemon is what the daemon makes of the user; UserConfig what the
	// user's nix.conf files do. Both null with --config.
	Daemon     *daemonReport   `json:"daemon"`
	UserConfig *userConfReport `json:"user_config"`
	problems   []string        // text lines for the problems, in order
	lines      []string        // text lines for everything
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

type daemonReport struct {
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
	IgnoredKeys         []keyRef `json:"ignored_keys"`
	IgnoredSubstituters []string `json:"ignored_substituters"`
	// Error says why the store could not be asked (the rest is then
	// empty).
	Error string `json:"error,omitempty"`
}

type keyRef struct {
	Label     string `json:"label"`
	PublicKey string `json:"public_key"`
}

type userConfReport struct {
	// Read are the files (and NIX_CONFIG) Nix reads, in order.
	Read []string `json:"read"`
	// Replaced are the user's plain lines that drop the system's values.
	Replaced []nixconf.Replacement `json:"replaced"`
	Error    string                `json:"error,omitempty"`
}

func runVerify(e *cli.Env, o verifyOpts, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("verify needs exactly one TARGET, for example nixconf.ci_runners")
	}
	if n := countSet(o.config, o.configDir, o.user); n > 1 {
		return cli.Usagef("verify takes one of --config, --config-dir and --user")
	}
	p, err := loadPolicy(e, involvedOptions)
	if err != nil {
		return err
	}
	t, err := p.FindTarget(args[0])
	if err != nil {
		return err
	}
	warnExpired(e, t.Keys...)
	if o.configDir != "" {
		return runVerifyFleet(e, o, t)
	}
	var r *verifyReport
	if o.config != "" {
		r, err = verifyCaptured(e, t, o.config)
	} else {
		r, err = verifyHere(e, t, o.user)
	}
	if err != nil {
		return err
	}
	if o.json {
		if err := e.PrintJSON(r); err != nil {
			return err
		}
	} else {
		printVerifyReport(e, t, r)
	}
	if !r.OK {
		if !o.json {
			verifyHints(e, t, r)
		}
		return cli.ErrDiffers
	}
	return nil
}

// verifyHints says how to fix what a failed verify found.
func verifyHints(e *cli.Env, t *policy.Target, r *verifyReport) {
	e.Hintf("%s", t.RolloutHint())
	if r.Daemon != nil && len(r.Daemon.IgnoredKeys)+len(r.Daemon.IgnoredSubstituters) > 0 {
		e.Hintf("what the daemon ignores belongs in the system's configuration (a nixconf, nixos or darwin target); trusted-users would also do, but makes the user root-equivalent for the store")
	}
	if r.UserConfig != nil && len(r.UserConfig.Replaced) > 0 {
		e.Hintf("make the plain lines of the warnings above extra- lines, which add to the system's values instead of replacing them")
	}
}

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

func printJSON(e *cli.Env, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = e.Stdout.Write(append(b, '\n'))
	return err
}

func printVerifyReport(e *cli.Env, t *policy.Target, r *verifyReport) {
	if r.OK {
		fmt.Fprintf(e.Stdout, "%s: ok (%s)\n", t.ID(), r.Source)
	} else {
		fmt.Fprintf(e.Stdout, "%s: %s (%s)\n", t.ID(), cli.Plural(len(r.problems), "problem", "problems"), r.Source)
	}
	for _, l := range r.lines {
		fmt.Fprintf(e.Stdout, "  %s\n", l)
	}
}

// verifyCaptured checks captured nix config show output from a file or
// standard input.
func verifyCaptured(e *cli.Env, t *policy.Target, config string) (*verifyReport, error) {
	data, source, err := readCaptured(e, config)
	if err != nil {
		return nil, err
	}
	c, err := nixconf.ParseShowConfig(data)
	if err != nil {
		return nil, hint.Wrap(fmt.Errorf("%s: %w", source, err), "give the output of \"nix config show\" (or \"nix show-config\"), text or --json")
	}
	r := verifyReportOf(t, nixconf.CheckTrust(wantOf(t), c.Settings()))
	r.Source = source
	return r, nil
}

func readCaptured(e *cli.Env, config string) ([]byte, string, error) {
	if config == "-" {
		b, err := io.ReadAll(io.LimitReader(e.Stdin, maxShownConfig))
		return b, "standard input", err
	}
	b, err := nixconf.ReadShownConfigFile(e.Path(config))
	return b, config, err
}

// verifyHere runs nix on this machine, as this user or as --user NAME,
// and adds what the daemon and the user's nix.conf files do.
func verifyHere(e *cli.Env, t *policy.Target, userName string) (*verifyReport, error) {
	caller, err := verifyCaller(e, userName)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("nix"); err != nil {
		return nil, hint.Wrap(errors.New("nix is not on PATH, so verify cannot read this machine's configuration"),
			"run verify where Nix runs, or capture \"nix config show\" there and pass it with --config FILE")
	}
	shown, _, source, err := caller.ShownConfig()
	if err != nil {
		return nil, hint.Wrap(err, "check that nix works here (\"nix show-config\"), or pass captured output with --config FILE")
	}
	want := wantOf(t)
	r := verifyReportOf(t, nixconf.CheckTrust(want, shown.Settings()))
	r.Source = source
	r.User = caller.Name
	if userName != "" {
		r.Source += " as " + caller.Name
	}
	r.addDaemon(t, caller, shown, want)
	r.addUserConf(caller)
	return r, nil
}

// verifyCaller is the user whose Nix verify runs: this one, or (as root)
// the one --user names.
func verifyCaller(e *cli.Env, name string) (nixconf.Caller, error) {
	if name == "" {
		return nixconf.CurrentCaller(), nil
	}
	if e.Sys.Geteuid() != 0 {
		return nixconf.Caller{}, hint.Wrap(fmt.Errorf("verify --user %s needs root: only root can run nix as another user", name),
			"run it with sudo, or run \"keyform verify\" as %s", name)
	}
	c, err := nixconf.CallerAs(name, os.LookupEnv)
	if err != nil {
		return nixconf.Caller{}, hint.Wrap(fmt.Errorf("verify --user: %w", err), "give the login name of a user of this machine")
	}
	return c, nil
}

// addDaemon asks whether the daemon trusts the caller and, when it does
// not, which of the target's keys and substituters it therefore ignores.
func (r *verifyReport) addDaemon(t *policy.Target, caller nixconf.Caller, shown *nixconf.ShownConfig, want nixconf.Want) {
	d := &daemonReport{IgnoredKeys: []keyRef{}, IgnoredSubstituters: []string{}}
	r.Daemon = d
	trust, err := caller.DaemonTrust(shown)
	if err != nil {
		d.Trust, d.Error = string(nixconf.TrustUnknown), err.Error()
		r.lines = append(r.lines, fmt.Sprintf("note     cannot ask the store whether the daemon trusts %s: %v", caller, err))
		return
	}
	d.Store, d.Version, d.Source = trust.Store.URL, trust.Store.Version, trust.Store.Source
	d.Trust, d.Inferred, d.Message = string(trust.Trust), trust.Inferred, trust.Why
	store := d.Store
	if d.Version != "" {
		store += ", Nix " + d.Version
	}
	r.lines = append(r.lines, fmt.Sprintf("store    %s: %s (%s)", store, d.Message, d.Source))
	if trust.Trust != nixconf.Untrusted {
		return
	}
	system, err := caller.SystemConfig()
	if err != nil {
		d.Error = err.Error()
		r.lines = append(r.lines, fmt.Sprintf("note     cannot read the system's configuration alone: %v", err))
		return
	}
	ig := nixconf.IgnoredForUntrusted(want, shown, system)
	why := "the daemon ignores"
	if trust.Inferred {
		why = "a daemon ignores"
	}
	labels := map[string]string{}
	for _, k := range t.Keys {
		labels[k.PublicKey] = k.Label
	}
	for _, k := range ig.Keys {
		d.IgnoredKeys = append(d.IgnoredKeys, keyRef{Label: labels[k], PublicKey: k})
		r.problem(fmt.Sprintf("IGNORED  key %s (%s): only the user's own configuration trusts it, and %s trusted-public-keys from users it does not trust (NixOS/nix#1921)", k, labels[k], why))
	}
	for _, u := range ig.Substituters {
		d.IgnoredSubstituters = append(d.IgnoredSubstituters, u)
		r.problem(fmt.Sprintf("IGNORED  substituter %s: only the user's own configuration sets it, and %s substituters from users it does not trust unless its trusted-substituters or substituters list them (NixOS/nix#1921)", u, why))
	}
}

// addUserConf reads the caller's nix.conf files and warns about plain
// lines that drop the system's values (cachix#413).
func (r *verifyReport) addUserConf(caller nixconf.Caller) {
	u := &userConfReport{Read: []string{}, Replaced: []nixconf.Replacement{}}
	r.UserConfig = u
	uc, err := nixconf.CheckUserConf(caller.ConfSources(), nixconf.ReadFile)
	if err != nil {
		u.Error = err.Error()
		r.lines = append(r.lines, fmt.Sprintf("note     cannot read the nix.conf files: %v", err))
		return
	}
	u.Read = append(u.Read, uc.Read...)
	u.Replaced = append(u.Replaced, uc.Replacements...)
	for _, rep := range uc.Replacements {
		r.lines = append(r.lines, "warning  "+rep.String()+" (cachix#413)")
	}
}

func (r *verifyReport) problem(line string) {
	r.OK = false
	r.problems = append(r.problems, line)
	r.lines = append(r.lines, line)
}

// verifyReportOf turns nixconf's verdict into verify's report, naming keys
// by their policy labels.
func verifyReportOf(t *policy.Target, tr *nixconf.TrustReport) *verifyReport {
	r := &verifyReport{Target: t.ID(), OK: true, Keys: []keyCheck{}, Substituters: []substCheck{}, Notes: []verifyNote{}, InvalidKeys: []verifyNote{}}
	// tr.Keys has the target's active keys, then its retired ones.
	for i, k := range slices.Concat(t.Keys, t.Retired) {
		kc := tr.Keys[i]
		r.Keys = append(r.Keys, keyCheck{Label: k.Label, PublicKey: k.PublicKey, State: string(k.State), Status: string(kc.Status), OK: kc.Status == nixconf.TrustOK})
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
			r.Substituters = append(r.Substituters, substCheck{URL: sc.URL, Status: "ok", OK: true})
			r.lines = append(r.lines, fmt.Sprintf("ok       substituter %s", sc.URL))
		} else {
			r.Substituters = append(r.Substituters, substCheck{URL: sc.URL, Status: "missing"})
			r.problem(fmt.Sprintf("MISSING  substituter %s", sc.URL))
		}
	}
	for _, k := range tr.Invalid {
		r.InvalidKeys = append(r.InvalidKeys, verifyNote{PublicKey: k.Value, Message: k.Why})
		r.problem(fmt.Sprintf("INVALID  key %s: %s; while it is trusted, Nix fails every signature check", k.Value, k.Why))
	}
	for _, it := range tr.Others {
		msg := "trusted, not named by this target"
		r.Notes = append(r.Notes, verifyNote{PublicKey: it.Value, Message: msg})
		r.lines = append(r.lines, fmt.Sprintf("note     key %s: %s", it.Value, msg))
	}
	return r
}
