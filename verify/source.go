package verify

import (
	"encoding/json"
	"io"

	"github.com/keyform/keyform/policy"
)

// Source is where verify reads a machine's configuration: captured "nix
// config show" output when Config is set (Captured), else this machine's
// Nix run as User, or as the caller when User is "" (Machine).
type Source struct {
	// Config names the captured output as the user gave it ("-": Stdin);
	// ConfigPath is where that file is.
	Config, ConfigPath string
	Stdin              io.Reader
	User               string
	// EUID is the caller's effective user ID: only root may name a User.
	EUID int
}

// Report checks target t against the configuration s names.
func (s Source) Report(t *policy.Target) (*Report, error) {
	if s.Config != "" {
		data, source, err := ReadCaptured(s.Config, s.ConfigPath, s.Stdin)
		if err != nil {
			return nil, err
		}
		return Captured(t, data, source)
	}
	caller, err := CallerFor(s.User, s.EUID)
	if err != nil {
		return nil, err
	}
	return Machine(t, caller, s.User != "")
}

// Write writes a report (Report or FleetReport) on w: as indented JSON
// for scripts, else as text.
func Write(w io.Writer, r interface{ WriteText(io.Writer) }, asJSON bool) error {
	if !asJSON {
		r.WriteText(w)
		return nil
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
