package main

import (
	"flag"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/render"
	"github.com/keyform/keyform/schema"
)

func renderCommand() *cli.Command {
	return &cli.Command{
		Name:  "render",
		Args:  "[-o DIR] [--prune] [--stdout] [TARGET...]",
		Short: "write each target's NixOS, nix-darwin, home-manager or nix.conf file",
		Long: `Renders every target of the policy (or the named ones, as kind.label) and
writes one file per target under the output directory: output_dir of the
keyform block, "generated" by default, or -o DIR. A file goes to
DIR/KIND/LABEL.nix (.conf for nixconf targets) unless the target sets output.
Files are written only after every target rendered, each atomically, and a
file that keyform did not generate is never overwritten. Prints one line per
file: created, updated or unchanged.

Files under the output directory that keyform generated earlier but that no
target renders any more are reported as stale; --prune removes them.

--stdout prints one target's file instead of writing it.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o renderOpts
			fs.StringVar(&o.outDir, "o", "", "write under `DIR` instead of the policy's output_dir")
			fs.BoolVar(&o.prune, "prune", false, "remove stale generated files")
			fs.BoolVar(&o.stdout, "stdout", false, "print the named target's file instead of writing it")
			return func(e *cli.Env, args []string) error { return runRender(e, o, args) }
		},
	}
}

type renderOpts struct {
	outDir        string
	prune, stdout bool
}

func runRender(e *cli.Env, o renderOpts, args []string) error {
	if o.stdout && (len(args) != 1 || o.prune || o.outDir != "") {
		return cli.Usagef("render --stdout takes exactly one TARGET and no other flag")
	}
	// render writes every machine's files: an expired key is a warning
	// there, and only for the target it prints with --stdout.
	opts := schema.Options{Expiry: schema.ExpiredIsWarning}
	if o.stdout {
		opts = involvedOptions
	}
	p, err := loadPolicy(e, opts)
	if err != nil {
		return err
	}
	tree, err := renderTree(e, p, o.outDir)
	if err != nil {
		return err
	}
	var selected []render.File
	if len(args) > 0 {
		if selected, err = render.Select(p, tree.Files, args); err != nil {
			return err
		}
	}
	if o.stdout {
		warnExpired(e, p.Target(args[0]).Keys...)
		_, err := e.Stdout.Write(selected[0].Content)
		return err
	}
	u, err := tree.NewUpdate(selected)
	if err != nil {
		return err
	}
	if len(p.Targets) == 0 {
		e.Printf("the policy has no targets; nothing to render")
	}
	return u.Apply(e.Stdout, o.prune)
}
