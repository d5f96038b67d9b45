package main

import (
	"flag"
	"fmt"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/schema"
)

func fmtCommand() *cli.Command {
	return &cli.Command{
		Name:  "fmt",
		Args:  "[--check] [--diff] [FILE...]",
		Short: "rewrite policy files in canonical HCL style",
		Long: `Formats every *.hcl file of the policy directory (or the named files) the way
hclwrite does, and prints the names of the files it changed. Files that do
not parse are reported and left alone.

With --check, nothing is written; exit status 1 if any file would change.
With --diff, the changes are printed as unified diffs.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			check := fs.Bool("check", false, "do not write; exit 1 if any file is not formatted")
			showDiff := fs.Bool("diff", false, "print a unified diff of the changes")
			return func(e *cli.Env, args []string) error { return runFmt(e, *check, *showDiff, args) }
		},
	}
}

func runFmt(e *cli.Env, check, showDiff bool, args []string) error {
	files, err := schema.FormatNames(e.Path("."), args)
	if err != nil {
		return err
	}
	invalid, changed := false, false
	for _, name := range files {
		f, err := schema.FormatFile(e.Path(name), name)
		if err != nil {
			return err
		}
		if f.Invalid != nil {
			f.Invalid.WriteDiagnostics(e.Stderr, 0, e.Colour)
			invalid = true
			continue
		}
		if !f.Changed() {
			continue
		}
		changed = true
		fmt.Fprintln(e.Stdout, name)
		if showDiff {
			e.Stdout.Write(diff.Diff(name, f.Src, name+" (formatted)", f.Out))
		}
		if !check {
			if err := f.Write(); err != nil {
				return err
			}
		}
	}
	switch {
	case invalid:
		return cli.ErrInvalid
	case check && changed:
		return cli.ErrDiffers
	}
	return nil
}
