package main

import (
	"context"
	"flag"
	"path/filepath"

	"github.com/keyform/keyform/internal/cli"
	"github.com/keyform/keyform/resign"
)

func resignCommand() *cli.Command {
	return &cli.Command{
		Name:  "resign",
		Args:  "KEY [--store URL] [--secret FILE] [--dry-run] [--jobs N] [--paths FILE|-] [--format text|json]",
		Short: "add KEY's signature to every path of a cache that lacks it",
		Long: `The backfill step of a rotation: signs, with active key KEY, every narinfo
of a file:///dir binary cache (--store, else the catalog's only
substituter) that has no valid signature by it, so that retiring the old
key strands nothing. Existing signatures and every other byte stay; each
narinfo is replaced atomically; running it again changes nothing. Do not run
it while something else writes the same narinfos.

The secret key is read from --secret FILE, else the key's private_key_path,
and must be the policy's key. --dry-run counts what would be signed.

keyform writes only file:// caches. For others (https://, s3://) it prints
the "nix store sign" command to run where the key and write access are:
with --paths FILE for the paths to sign (HTTP caches cannot be listed),
else with --all.`,
		Setup: func(fs *flag.FlagSet) cli.RunFunc {
			var o resignOpts
			fs.StringVar(&o.store, "store", "", "binary cache `URL` to sign (default: the catalog's only substituter)")
			fs.StringVar(&o.secret, "secret", "", "secret key `file` (default: the key's private_key_path)")
			fs.BoolVar(&o.dryRun, "dry-run", false, "count what would be signed and write nothing")
			cli.JobsFlag(fs, &o.jobs, "handle `N` narinfos at once (default: one per core)")
			fs.StringVar(&o.paths, "paths", "", "`file` listing the store paths to sign, for the printed nix store sign command")
			fs.StringVar(&o.format, "format", "text", "output `format`: text or json")
			return func(e *cli.Env, args []string) error { return runResign(e, o, args) }
		},
	}
}

type resignOpts struct {
	store, secret, paths, format string
	dryRun                       bool
	jobs                         int
}

func runResign(e *cli.Env, o resignOpts, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("resign takes exactly one KEY (a key label)")
	}
	if o.format != "text" && o.format != "json" {
		return cli.Usagef("resign: unknown --format %q; use text or json", o.format)
	}
	p, err := loadPolicy(e, involvedOptions)
	if err != nil {
		return err
	}
	k, err := resign.SigningKey(p, args[0])
	if err != nil {
		return err
	}
	warnExpired(e, k)
	store, err := resign.StoreOf(p, k, o.store)
	if err != nil {
		return err
	}
	req := resign.Request{Key: k, Store: store, Paths: o.paths, Format: o.format, Jobs: o.jobs, DryRun: o.dryRun, Now: e.Now(),
		Source: resign.KeySource{Outside: func(path string) error { return checkOutside(e, path) }, Warn: e}}
	if o.secret != "" {
		if req.Source.Secret, err = filepath.Abs(e.Path(o.secret)); err != nil {
			return err
		}
	}
	return req.Run(context.Background(), e.Stdout, e)
}
