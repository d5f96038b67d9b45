package main

import (
	"flag"
	"fmt"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/render/flox"
)

func publisherFloxCommand() *cli.Command {
	return &cli.Command{
		Name:  "publisher flox",
		Args:  "NAME [--toml]",
		Short: "print a publisher's Flox setup script (or flox.toml fragment)",
		Long: `Prints the Flox setup that "keyform render" writes to OUTPUT_DIR/flox/NAME.sh
for a publisher with flox = true: the "flox config --set
publish.signing_private_key" command for its default key and the
"flox publish --signing-private-key" form for its other keys. --toml prints
OUTPUT_DIR/flox/NAME.toml instead, the same setting as a flox.toml fragment.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			asTOML := fs.Bool("toml", false, "print the flox.toml fragment")
			return func(e *cli.Env, args []string) error { return runPublisherFlox(e, *asTOML, args) }
		},
	}
}

func runPublisherFlox(e *cli.Env, asTOML bool, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("publisher flox takes one publisher NAME")
	}
	p, err := loadPolicy(e, involvedOptions)
	if err != nil {
		return err
	}
	pub, err := p.FindPublisher(args[0])
	if err != nil {
		return err
	}
	warnExpired(e, p.KeysOf(pub)...)
	if !pub.Flox {
		return hint.Wrap(fmt.Errorf("publisher %s does not use Flox", pub.Label), "set flox = true in publisher %q", pub.Label)
	}
	render := flox.Render
	if asTOML {
		render = flox.TOML
	}
	out, err := render(p, pub, policySource(e))
	if err != nil {
		return err
	}
	_, err = e.Stdout.Write(out)
	return err
}
