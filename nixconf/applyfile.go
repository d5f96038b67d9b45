package nixconf

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
)

// This file is "keyform apply" from the target to the written file: the
// checks on the target, then Host.Apply, which opens, plans, checks with
// Nix, locks, writes and restarts, saying what it does as it goes.

var (
	// ErrRefused is returned when the patch would not give the target its
	// trust; the reporter has been told why.
	ErrRefused = errors.New("apply refused")
	// ErrWouldChange is returned by a dry run whose file would change;
	// the diff has been written.
	ErrWouldChange = errors.New("the file would change")
)

// ApplyWant is what apply writes for target t: only nixconf targets are
// applied, and only when every key is a public key (apply never writes a
// secret).
func ApplyWant(t *policy.Target) (Want, error) {
	if t.Kind != policy.NixConf {
		return Want{}, withHint(fmt.Errorf("%s is a %s target; keyform apply only edits nix.conf, for nixconf targets", t.ID(), t.Kind), t.RolloutHint())
	}
	for _, k := range slices.Concat(t.Keys, t.Retired) {
		if _, err := keys.ParsePublicKey(k.PublicKey); err != nil {
			return Want{}, fmt.Errorf("key %s: %w", k.Label, err)
		}
	}
	return WantOf(t), nil
}

// ApplyOptions say how Apply patches a file.
type ApplyOptions struct {
	// Create creates a file that does not exist; DryRun writes the diff
	// instead of the file; Backup keeps the previous file as PATH.bak;
	// Restart runs the daemon restart commands instead of listing them;
	// NoNixCheck skips having the machine's nix load the result.
	Create, DryRun, Backup, Restart, NoNixCheck bool
	// Pause holds Apply between planning and writing, so a test can prove
	// that concurrent applies serialise.
	Pause time.Duration
}

// Apply patches the nix.conf at path so that it gives want its trust. It
// writes results to w (the diff of a dry run, what changed, the daemon
// restart) and tells rep the rest. Whether anything needs writing is
// decided before the lock, which needs write access, so a file already
// right is fine on a read-only system. Errors: ErrRefused, ErrWouldChange,
// an *AccessError for a file it cannot read, lock or replace, others
// with a hint.
func (h Host) Apply(w io.Writer, rep report.Reporter, want Want, path string, o ApplyOptions) error {
	real, err := h.CheckConfFile(path)
	if err != nil {
		return err
	}
	if real != path {
		rep.Printf("%s is a symlink to %s; editing %s", path, real, real)
	}
	c, err := h.OpenConf(path, real)
	if err != nil {
		return err
	}
	defer c.Close()
	if !c.Exists && !o.Create {
		return withHint(fmt.Errorf("%s does not exist", path), "check the target's path (or --file); to start a new file there, add --create")
	}
	plan, check, dryDiff, err := h.planChecked(rep, c, want, o)
	if err != nil {
		return err
	}
	if plan.Changed() && !o.DryRun {
		changed, err := c.Lock()
		if err != nil {
			return err
		}
		if changed {
			// Another apply (or an editor) wrote the file meanwhile.
			if plan, check, _, err = h.planChecked(rep, c, want, o); err != nil {
				return err
			}
		}
	}
	reportPlan(rep, plan, check, o.DryRun)
	if !plan.Changed() {
		fmt.Fprintf(w, "%s already gives %s what the policy says; no change\n", path, want.Target)
		return nil
	}
	if o.DryRun {
		w.Write(dryDiff)
		return ErrWouldChange
	}
	time.Sleep(o.Pause)
	backup, err := c.Write(plan.New, o.Backup)
	if err != nil {
		return err
	}
	io.WriteString(w, plan.Report())
	if backup != "" {
		fmt.Fprintf(w, "previous version kept in %s\n", backup)
	}
	r := h.PlanRestart(path)
	if r.UserFile {
		rep.Notef("%s is a user's file; the Nix daemon ignores trusted-public-keys from it unless that user is in trusted-users", path)
	}
	return r.Advise(w, o.Restart)
}

// planChecked plans the patch and, unless NoNixCheck, has the machine's
// nix check the result (check is nil when skipped). A refused plan is
// ErrRefused, its conflicts told to rep; a failed check is an error. In a
// dry run it also returns the diff of a change, made while nix runs.
func (h Host) planChecked(rep report.Reporter, c *ConfFile, want Want, o ApplyOptions) (*ApplyPlan, *NixCheck, []byte, error) {
	plan, err := patchPlan(c, want, ReadFile)
	if err != nil {
		return nil, nil, nil, err
	}
	if plan.Refused() {
		for _, c := range plan.Change.Conflicts {
			rep.Printf("%s", c)
			if c.Hint != "" {
				rep.Hintf("%s", c.Hint)
			}
		}
		rep.Printf("%s not changed: it would not give %s the trust the policy says", plan.Path, plan.Want.Target)
		return nil, nil, nil, ErrRefused
	}
	// Nix loads the patched file while keyform evaluates it and makes
	// the dry run's diff: on a large file each takes about as long as
	// the other, and Nix uses one core.
	wait := func() (*NixCheck, error) { return nil, nil }
	if !o.NoNixCheck {
		wait = h.startNixCheck(plan)
	}
	diffc := make(chan []byte, 1)
	if o.DryRun && plan.Changed() {
		go func() { diffc <- diff.Diff(plan.Path, plan.Old, plan.Path+" (keyform apply)", plan.New) }()
	} else {
		diffc <- nil
	}
	evalErr := plan.evaluate(c.Path, want, ReadFile)
	check, err := wait()
	d := <-diffc
	// An error keyform's own reading finds comes first: it names the
	// line, as before the check ran in parallel.
	if evalErr != nil {
		return nil, nil, nil, evalErr
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return plan, check, d, nil
}

// reportPlan tells the notes and warnings of a plan apply writes anyway,
// and what the Nix check found: always when no nix could check, in a dry
// run also when it did.
func reportPlan(rep report.Reporter, plan *ApplyPlan, check *NixCheck, dryRun bool) {
	for _, n := range plan.Change.Notes {
		rep.Notef("%s", n)
	}
	for _, w := range plan.Warnings {
		rep.Warnf("%s", w.Msg)
		if w.Hint != "" {
			rep.Hintf("%s", w.Hint)
		}
	}
	switch {
	case check == nil:
	case !check.Ran():
		rep.Notef("%s", check.Summary(plan.Path))
	case dryRun:
		rep.Printf("%s", check.Summary(plan.Path))
	}
}

// RootCommand is the command line to run as root (WithRootHint) when
// apply may not write the file: "keyform apply TARGET" with --file when
// file is given and the options that change what is written. A dry run
// needs no root, so --dry-run is left out.
func (o ApplyOptions) RootCommand(target, file string) []string {
	cmd := []string{"keyform", "apply", target}
	if file != "" {
		cmd = append(cmd, "--file", file)
	}
	for _, f := range []struct {
		set  bool
		name string
	}{{o.Create, "--create"}, {o.Backup, "--backup"}, {o.Restart, "--restart"}, {o.NoNixCheck, "--no-nix-check"}} {
		if f.set {
			cmd = append(cmd, f.name)
		}
	}
	return cmd
}

// WithRootHint gives an *AccessError in err its fix: for one root could
// overcome, running argv (the same command) with sudo; otherwise the
// error's own hint. Other errors are returned as they are.
func WithRootHint(err error, argv []string) error {
	var ae *AccessError
	switch {
	case !errors.As(err, &ae):
		return err
	case !ae.NeedsRoot:
		return withHint(ae, ae.Hint)
	}
	return withHint(ae, "run it as root: sudo "+strings.Join(argv, " "))
}
