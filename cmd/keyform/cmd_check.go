package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/keyform/keyform/render/outdir"
	"github.com/keyform/keyform/schema"
)

func checkCommand() *command {
	return &command{
		name:  "check",
		args:  "[-o DIR]",
		short: "check that the generated files match the policy (for CI)",
		long: `Validates the policy, renders every target in memory and compares the result
with the files under the output directory. Prints a unified diff for each
file that is out of date, missing, or stale (generated earlier, but no
target renders it any more). Writes nothing.

Exit status 0 when every file is current, 1 when any differs ("keyform
render" fixes that), 2 when the policy is invalid. This is what CI and
pre-commit hooks run.`,
		setup: func(fs *flag.FlagSet) runFunc {
			outDir := fs.String("o", "", "compare with `DIR` instead of the policy's output_dir")
			return func(e *env, args []string) error { return runCheck(e, *outDir, args) }
		},
	}
}

func runCheck(e *env, outDir string, args []string) error {
	if len(args) > 0 {
		return usagef("check takes no arguments; it checks every target")
	}
	p, err := loadPolicy(e, schema.Options{})
	if err != nil {
		return err
	}
	outDir, all, err := renderAll(e, p, outDir)
	if err != nil {
		return err
	}
	stale, err := outdir.Stale(e.dir, outDir, all)
	if err != nil {
		return err
	}
	entries, err := outdir.Compare(e.dir, all)
	if err != nil {
		return err
	}
	bad := 0
	for _, f := range entries {
		switch f.Status {
		case outdir.Created:
			bad++
			e.stdout.Write(diff.Diff(f.Path+" (missing)", nil, f.Path+" (rendered)", f.Content))
		case outdir.Updated, outdir.Foreign:
			bad++
			e.stdout.Write(diff.Diff(f.Path+" (on disk)", f.Old, f.Path+" (rendered)", f.Content))
		}
	}
	for _, s := range stale {
		old, err := os.ReadFile(e.path(filepath.FromSlash(s)))
		if err != nil {
			return err
		}
		bad++
		e.stdout.Write(diff.Diff(s+" (stale)", old, s+" (no target renders it)", nil))
	}
	if bad > 0 {
		hint := `run "keyform render"`
		if len(stale) > 0 {
			hint = `run "keyform render --prune"`
		}
		return differs(withHint(fmt.Errorf("%s out of date under %s", plural(bad, "generated file is", "generated files are"), outDir), "%s", hint))
	}
	fmt.Fprintf(e.stdout, "%s current under %s\n", plural(len(all), "generated file is", "generated files are"), outDir)
	return nil
}
