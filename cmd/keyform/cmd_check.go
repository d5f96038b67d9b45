package main

import (
	"flag"
	"fmt"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/internal/hint"
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
	outDir, all, err := renderAll(e, p, outDir)
	if err != nil {
		return err
	}
	drift, err := outdir.Drift(e.Dir, outDir, all)
	if err != nil {
		return err
	}
	fix := `run "keyform render"`
	for _, f := range drift {
		switch f.Status {
		case outdir.Created:
			e.Stdout.Write(diff.Diff(f.Path+" (missing)", nil, f.Path+" (rendered)", f.Content))
		case outdir.StaleFile:
			fix = `run "keyform render --prune"`
			e.Stdout.Write(diff.Diff(f.Path+" (stale)", f.Old, f.Path+" (no target renders it)", nil))
		default:
			e.Stdout.Write(diff.Diff(f.Path+" (on disk)", f.Old, f.Path+" (rendered)", f.Content))
		}
	}
	if len(drift) > 0 {
		return cli.Differs(hint.Wrap(fmt.Errorf("%s out of date under %s", cli.Plural(len(drift), "generated file is", "generated files are"), outDir), "%s", fix))
	}
	fmt.Fprintf(e.Stdout, "%s current under %s\n", cli.Plural(len(all), "generated file is", "generated files are"), outDir)
	return nil
}
