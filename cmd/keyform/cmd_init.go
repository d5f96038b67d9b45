package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/schema"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Args:  "[--private-dir ABSDIR]",
		Short: "write a commented starter keyform.hcl",
		Long: `Writes keyform.hcl with one catalog, one key and two targets to edit.
Refuses to overwrite an existing keyform.hcl. The key's private_key_path is
placed under --private-dir (default: keyform/ in your user config directory),
outside the repository.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			dir := fs.String("private-dir", "", "absolute `directory` for private keys (default $XDG_CONFIG_HOME/keyform)")
			return func(e *cli.Env, args []string) error { return runInit(e, *dir, args) }
		},
	}
}

func runInit(e *cli.Env, dir string, args []string) error {
	if len(args) > 0 {
		return cli.Usagef("init takes no arguments")
	}
	if dir == "" {
		cfg, err := os.UserConfigDir()
		if err != nil {
			return hint.Wrap(err, "pass --private-dir ABSDIR to say where private keys go")
		}
		dir = filepath.Join(cfg, "keyform")
	}
	if !filepath.IsAbs(dir) {
		return cli.Usagef("--private-dir %q must be an absolute path", dir)
	}
	err := schema.WriteStarter(e.Path("."), filepath.Join(dir, "cache.example.org-1.key"))
	if errors.Is(err, schema.ErrUnquotable) {
		return cli.Usagef("--private-dir %q holds characters that cannot go in the policy", dir)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "wrote keyform.hcl\nnext: edit it, then run \"keyform keygen\" and \"keyform validate\"\n")
	return nil
}
