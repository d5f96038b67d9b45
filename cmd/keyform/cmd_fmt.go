package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/keyform/keyform/internal/atomicfile"
	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
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
	files := args
	if len(files) == 0 {
		var err error
		files, err = fs.Glob(os.DirFS(e.Path(".")), "*.hcl")
		if err != nil {
			return err
		}
		if len(files) == 0 {
			dir, err := filepath.Abs(e.Path("."))
			if err != nil {
				return err
			}
			return hint.Wrap(fmt.Errorf("no *.hcl files in %s", dir), "run keyform init, or pass -C DIR")
		}
	}
	sort.Strings(files)
	invalid, changed := false, false
	for _, name := range files {
		src, err := schema.ReadFile(e.Path(name))
		if err != nil {
			return err
		}
		out, res := schema.Format(src, name)
		if res != nil {
			res.WriteDiagnostics(e.Stderr, 0, e.Colour)
			invalid = true
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		changed = true
		fmt.Fprintln(e.Stdout, name)
		if showDiff {
			e.Stdout.Write(diff.Diff(name, src, name+" (formatted)", out))
		}
		if !check {
			fi, err := os.Stat(e.Path(name))
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(e.Path(name), out, fi.Mode().Perm()); err != nil {
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
