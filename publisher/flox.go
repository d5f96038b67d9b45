package publisher

import (
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/flox"
)

// This file is the Flox step of "keyform publisher setup": it makes the
// publisher's default key Flox's signing key on this machine, with the
// flox command, and says how to sign with the others.

// Flox is the flox of this machine: the environment that says where its
// flox.toml is (os.Getenv) and how to run it (argv[0] is the flox found on
// PATH), its output going to the user.
type Flox struct {
	Getenv func(string) string
	Run    func(argv []string) error
}

// ExecFlox runs flox in dir with the process's environment, its output
// going to stdout and stderr.
func ExecFlox(dir string, stdout, stderr io.Writer) Flox {
	return Flox{Getenv: os.Getenv, Run: func(argv []string) error {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = stdout, stderr
		return cmd.Run()
	}}
}

// Configure makes pub's default key Flox's signing key and writes to w
// how to sign with its other keys, each by the path pub keeps it at.
func (m Flox) Configure(w io.Writer, rep report.Reporter, p *policy.Policy, pub *policy.Publisher) error {
	k := p.Key(pub.DefaultKey)
	if err := m.setKey(w, rep, pub, k, pub.KeyPath(k)); err != nil {
		return err
	}
	for _, o := range p.KeysOf(pub) {
		if o.Label != pub.DefaultKey {
			catalog := o.Catalog
			if catalog == "" {
				catalog = "-"
			}
			fmt.Fprintf(w, "to sign with %s instead (catalog %s): %s PACKAGE\n", o.Label, catalog, flox.PublishCommand(pub.KeyPath(o)))
		}
	}
	return nil
}

// setKey runs "flox config --set" for path, unless the flox.toml it writes
// already names path, or flox is not installed (then it writes the
// command).
func (m Flox) setKey(w io.Writer, rep report.Reporter, pub *policy.Publisher, k *policy.Key, path string) error {
	cfg := UserConfigFile(m.Getenv)
	have, err := ConfiguredKey(cfg)
	if err != nil {
		rep.Warnf("%s", err)
	}
	if have == path {
		fmt.Fprintf(w, "flox already signs with %s: %s sets %s\n", k.Label, cfg, flox.ConfigKey)
		return nil
	}
	cmdline := flox.ConfigCommand(path)
	floxBin, err := exec.LookPath("flox")
	if err != nil {
		fmt.Fprintf(w, "flox is not on PATH; once it is, make %s Flox's signing key with:\n  %s\n", k.Label, cmdline)
		return nil
	}
	if have != "" {
		rep.Notef("%s names %s as Flox's signing key; replacing it with %s", cfg, have, path)
	}
	if err := m.Run(append([]string{floxBin}, flox.ConfigArgs(path)...)); err != nil {
		return hint.Wrap(fmt.Errorf("%s: %w", cmdline, err), "run it yourself, or set it in flox.toml: keyform publisher flox %s --toml", pub.Label)
	}
	fmt.Fprintf(w, "ran: %s\n", cmdline)
	return nil
}
