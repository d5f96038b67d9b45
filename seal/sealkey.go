package seal

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/policy"
)

// This file is "keyform seal" and "keyform reseal" on one key or a plan:
// deciding what to seal, and saying what was done.

// SealKey seals k (a generated key of p) in memory for "keyform seal", to
// the recipients of its publishers, with the secret read from secret, or
// else from k's private_key_path. It returns the key's status, and a nil
// *Sealed when the key is sealed to exactly those recipients already and
// force is false: age output is randomised, so sealing it again would only
// churn git.
func (f KeyFiles) SealKey(p *policy.Policy, k *policy.Key, secret string, force bool) (*Status, *Sealed, error) {
	st, err := Check(os.DirFS(f.Resolve(".")), p, k)
	if err != nil {
		return nil, nil, err
	}
	if len(st.Want) == 0 {
		return nil, nil, hint.Wrap(fmt.Errorf("key %s has no recipients: no publisher with recipients lists it", k.Label),
			"add a publisher with keys = [key.%s] and recipients = [\"age1...\"]", k.Label)
	}
	if st.State == Current && !force {
		return st, nil, nil
	}
	if secret == "" {
		secret = k.PrivateKeyPath
	}
	if secret == "" {
		return nil, nil, hint.Wrap(fmt.Errorf("key %s has no private_key_path to read the secret from", k.Label),
			"pass it with --secret FILE, or set private_key_path on the key")
	}
	sk, err := ReadSecret(k, f.Resolve(secret))
	if err != nil {
		return nil, nil, err
	}
	s, err := Prepare(st, sk)
	return st, s, err
}

// SealedLine says that a key was sealed, to whom, and where.
func (st *Status) SealedLine() string {
	return fmt.Sprintf("sealed %s to %s (%s): %s", st.Key.Label, plural(len(st.Want), "recipient", "recipients"), strings.Join(Publishers(st.Want), ", "), st.Key.SealedFile)
}

// CurrentLine says that a key is sealed to the recipients the policy wants.
func (st *Status) CurrentLine() string {
	return fmt.Sprintf("current %s: %s is sealed to the policy's %s", st.Key.Label, st.Key.SealedFile, plural(len(st.Want), "recipient", "recipients"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// ReportReseal prints on w what PlanReseal found for each key: current,
// unsealed (only for keys named on the command line), and with check what
// is out of date and how. It returns whether anything is out of date and
// the errors of keys that cannot be sealed anew.
func ReportReseal(w io.Writer, plan []Reseal, named, check bool) (outOfDate bool, failed []error) {
	for _, r := range plan {
		switch k := r.Key; {
		case r.State == Unsealed && named:
			fmt.Fprintf(w, "unsealed %s: no publisher has recipients for it\n", k.Label)
		case r.State == Unsealed:
		case r.State == Current:
			fmt.Fprintf(w, "current %s\n", k.Label)
		case r.Err != nil:
			outOfDate, failed = true, append(failed, r.Err)
		case check:
			outOfDate = true
			fmt.Fprintf(w, "%s %s: %s\n", r.State, k.Label, r.Change())
		}
	}
	return outOfDate, failed
}

// WriteReseal writes the keys plan sealed anew under dir (the policy
// directory), then removes the sealed files no publisher recipient wants
// any more, saying so on w and warning rep about who may still hold a key.
func WriteReseal(dir string, plan []Reseal, w io.Writer, rep report.Reporter) error {
	for _, r := range plan {
		if r.Sealed == nil {
			continue
		}
		if err := r.Sealed.Write(dir); err != nil {
			return err
		}
		if r.State == Missing {
			fmt.Fprintln(w, r.SealedLine())
			continue
		}
		fmt.Fprintf(w, "resealed %s: %s\n", r.Key.Label, r.Change())
		r.Status.WarnRotation(rep)
	}
	for _, r := range plan {
		if r.State != Orphaned {
			continue
		}
		if err := Remove(dir, r.Key); err != nil {
			return err
		}
		fmt.Fprintf(w, "removed %s: no publisher recipients left\n", r.Key.Label)
		r.Status.WarnRotation(rep)
	}
	return nil
}
