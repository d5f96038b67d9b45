package main

import (
	"flag"
	"os"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/plan"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/outdir"
	"github.com/keyform/keyform/schema"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Args:  "[--base REV | --base-dir DIR] [--format text|markdown|json] [--exit-code]",
		Short: "show which machines gain or lose trust in which keys, and the risks",
		Long: `Compares the policy in the working tree (the -C directory) with a base policy
and prints, per target, the keys newly trusted and no longer trusted and the
substituters added and removed; per key, whether it was created, retired,
removed, moved to another catalog or had its public key replaced; and the
risks a reviewer must see (a public key replaced in place, a catalog or a
target left without any active key, exclusive turned on, a private key path
moved, ...).

--base REV reads the policy directory as it was at a git revision (default
HEAD, i.e. your uncommitted changes), straight from git: the work tree is not
touched. If the directory did not exist at REV, everything is new.
--base-dir DIR compares against another directory instead.

Both policies must be valid and fully generated (run keyform keygen first).
Expiry is not judged for the base, which may have expired since it was
merged.

--format text (default) is for terminals, markdown is a compact table for a
pull request comment, json is a stable, versioned schema (docs/plan.md).
With --exit-code, exit status 1 means the plan has changes and 0 none, like
git diff --exit-code; without it, 0 either way. 2 is an error.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o planOpts
			fs.StringVar(&o.base, "base", "", "git `revision` to compare against (default HEAD)")
			fs.StringVar(&o.baseDir, "base-dir", "", "policy `directory` to compare against instead of a revision")
			fs.StringVar(&o.format, "format", "text", "output `format`: text, markdown or json")
			fs.BoolVar(&o.exitCode, "exit-code", false, "exit 1 when the plan has changes")
			return func(e *cli.Env, args []string) error { return runPlan(e, o, args) }
		},
	}
}

type planOpts struct {
	base, baseDir, format string
	exitCode              bool
}

func runPlan(e *cli.Env, o planOpts, args []string) error {
	if len(args) > 0 {
		return cli.Usagef("plan takes no arguments; the policy is the current directory (use -C DIR)")
	}
	if o.base != "" && o.baseDir != "" {
		return cli.Usagef("plan: --base and --base-dir exclude each other")
	}
	format, ok := plan.Format(o.format)
	if !ok {
		return cli.Usagef("plan: unknown --format %q; use text, markdown or json", o.format)
	}
	spec := schema.BaseSpec{PolicyDir: e.Path("."), Rev: o.base, Dir: o.baseDir}
	var head *policy.Policy
	var err error
	bl := schema.LoadBaseWhile(spec, loadOptions(e, schema.Options{}), func() { head, err = loadPolicy(e, schema.Options{}) })
	if err != nil {
		return err
	}
	base, note, err := bl.Policy(e.Stderr, e.Colour)
	if err != nil {
		return err
	}
	if note != "" {
		e.Printf("%s", note)
	}
	p, err := plan.Review(os.DirFS(e.Path(".")), base, head, bl.Name)
	if err != nil {
		return err
	}
	if _, err := e.Stdout.Write(format(p)); err != nil {
		return err
	}
	warnUnrendered(e, head)
	if o.exitCode && p.Changed {
		return cli.ErrDiffers
	}
	return nil
}

// warnUnrendered warns when the generated files are not what the policy
// renders, by the test "keyform check" makes (outdir.Drift): the change
// under review would not reach machines as the plan shows.
func warnUnrendered(e *cli.Env, p *policy.Policy) {
	tree, err := renderTree(e, p, "")
	var drift []outdir.Entry
	if err == nil {
		drift, err = tree.Drift()
	}
	switch {
	case err != nil:
		e.Warnf("cannot compare the generated files with the policy: %v", err)
	case len(drift) > 0:
		e.Warnf("%v: machines get what is generated, not this plan", outdir.OutOfDate(tree.OutDir, drift))
		e.Hintf("run \"keyform render\" (\"keyform check\" shows the differences)")
	}
}
