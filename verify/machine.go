package verify

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/nixconf"
	"github.com/keyform/keyform/policy"
)

// ReadCaptured reads captured "nix config show" output: from stdin when
// name is "-", else from the file at path (name as the user gave it). It
// returns the data and the source to name in the report.
func ReadCaptured(name, path string, stdin io.Reader) (data []byte, source string, err error) {
	if name == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, nixconf.MaxShownConfigSize))
		return b, "standard input", err
	}
	b, err := nixconf.ReadShownConfigFile(path)
	return b, name, err
}

// Captured checks captured "nix config show" output, text or JSON, from
// source against target t.
func Captured(t *policy.Target, data []byte, source string) (*Report, error) {
	c, err := nixconf.ParseShowConfig(data)
	if err != nil {
		return nil, hint.Wrap(fmt.Errorf("%s: %w", source, err), "give the output of \"nix config show\" (or \"nix show-config\"), text or --json")
	}
	r := Of(t, nixconf.CheckTrust(nixconf.WantOf(t), c.Settings()))
	r.Source = source
	return r, nil
}

// CallerFor is the user whose Nix verify runs: the current one when name
// is "", else (only for root: euid 0) the user name names, with their
// login's environment.
func CallerFor(name string, euid int) (nixconf.Caller, error) {
	if name == "" {
		return nixconf.CurrentCaller(), nil
	}
	if euid != 0 {
		return nixconf.Caller{}, hint.Wrap(fmt.Errorf("verify --user %s needs root: only root can run nix as another user", name),
			"run it with sudo, or run \"keyform verify\" as %s", name)
	}
	c, err := nixconf.CallerAs(name, os.LookupEnv)
	if err != nil {
		return nixconf.Caller{}, hint.Wrap(fmt.Errorf("verify --user: %w", err), "give the login name of a user of this machine")
	}
	return c, nil
}

// Machine checks target t against this machine's Nix, run as caller, and
// adds what the daemon makes of caller and what caller's nix.conf files
// do. named says caller was asked for by name (--user), which the source
// then says.
func Machine(t *policy.Target, caller nixconf.Caller, named bool) (*Report, error) {
	if _, err := exec.LookPath("nix"); err != nil {
		return nil, hint.Wrap(errors.New("nix is not on PATH, so verify cannot read this machine's configuration"),
			"run verify where Nix runs, or capture \"nix config show\" there and pass it with --config FILE")
	}
	shown, _, source, err := caller.ShownConfig()
	if err != nil {
		return nil, hint.Wrap(err, "check that nix works here (\"nix show-config\"), or pass captured output with --config FILE")
	}
	want := nixconf.WantOf(t)
	r := Of(t, nixconf.CheckTrust(want, shown.Settings()))
	r.Source = source
	r.User = caller.Name
	if named {
		r.Source += " as " + caller.Name
	}
	r.addDaemon(t, caller, shown, want)
	r.addUserConf(caller)
	return r, nil
}

// addDaemon asks whether the daemon trusts the caller and, when it does
// not, which of the target's keys and substituters it therefore ignores.
func (r *Report) addDaemon(t *policy.Target, caller nixconf.Caller, shown *nixconf.ShownConfig, want nixconf.Want) {
	d := &DaemonReport{IgnoredKeys: []KeyRef{}, IgnoredSubstituters: []string{}}
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
	r.addIgnored(t, nixconf.IgnoredForUntrusted(want, shown, system), trust.Inferred)
}

// addIgnored reports what an untrusting daemon ignores: problems, since
// the target's trust then does not hold.
func (r *Report) addIgnored(t *policy.Target, ig nixconf.Ignored, inferred bool) {
	d := r.Daemon
	why := "the daemon ignores"
	if inferred {
		why = "a daemon ignores"
	}
	labels := map[string]string{}
	for _, k := range t.Keys {
		labels[k.PublicKey] = k.Label
	}
	for _, k := range ig.Keys {
		d.IgnoredKeys = append(d.IgnoredKeys, KeyRef{Label: labels[k], PublicKey: k})
		r.problem(fmt.Sprintf("IGNORED  key %s (%s): only the user's own configuration trusts it, and %s trusted-public-keys from users it does not trust (NixOS/nix#1921)", k, labels[k], why))
	}
	for _, u := range ig.Substituters {
		d.IgnoredSubstituters = append(d.IgnoredSubstituters, u)
		r.problem(fmt.Sprintf("IGNORED  substituter %s: only the user's own configuration sets it, and %s substituters from users it does not trust unless its trusted-substituters or substituters list them (NixOS/nix#1921)", u, why))
	}
}

// addUserConf reads the caller's nix.conf files and warns about plain
// lines that drop the system's values (cachix#413).
func (r *Report) addUserConf(caller nixconf.Caller) {
	u := &UserConfReport{Read: []string{}, Replaced: []nixconf.Replacement{}}
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
