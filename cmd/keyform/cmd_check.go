package main

import (
	"flag"
	"fmt"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/render/outdir"
	"github.com/keyform/keyform/schema"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Args:  "[-o DIR]",
		Short: "check that the generated files match the policy (for CI)",
		Long: `Validates the policy, renders every target in memory and compares the result
with the files under the output directory. Prints a unified diff for each
file that is out of date, missing, or stale (generated earlier, but no
target renders it any more). Writes nothing.

Exit status 0 when every file is current, 1 when any differs ("keyform
render" fixes that), 2 when the policy is invalid. This is what CI and
pre-commit hooks run.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			outDir := fs.String("o", "", "compare with `DIR` instead of the policy's output_dir")
			return func(e *cli.Env, args []string) error { return runCheck(e, *outDir, args) }
		},
	}
}

func runCheck(e *cli.Env, outDir string, args []string) error {
	if len(args) > 0 {
		return cli.Usagef("check takes no arguments; it checks every target")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	tree, err := renderTree(e, p, outDir)
	if err != nil {
		return err
	}
	drift, err := tree.Drift()
	if err != nil {
		return err
	}
	if err := outdir.WriteDiffs(e.Stdout, drift); err != nil {
		return err
	}
	if err := outdir.OutOfDate(tree.OutDir, drift); err != nil {
		return cli.Differs(err)
	}
	fmt.Fprintf(e.Stdout, "%s current under %s\n", cli.Plural(len(tree.Files), "generated file is", "generated files are"), tree.OutDir)
	return nil
}
