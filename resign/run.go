package resign

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/policy"
)

// Request is one "keyform resign": Key's signature added to the narinfos
// of Store that lack it.
type Request struct {
	Key *policy.Key
	// Store is the cache URL as given: it may hold credentials, so it is
	// printed only through binarycache.Redact.
	Store  string
	Source KeySource
	// Paths is the paths list for the printed command of a store keyform
	// cannot write; file:// caches are listed instead.
	Paths string
	// Format is the report's: "json" or text.
	Format string
	Jobs   int
	DryRun bool
	// Now dates the note on when the old key may be retired.
	Now time.Time
}

// Run signs a file:// store with the key's secret key file (proved the
// key's first) and writes the report on w. For a store keyform cannot
// write it writes the "nix store sign" command to run instead.
func (r Request) Run(ctx context.Context, w io.Writer, rep report.Reporter) error {
	keyFile, err := r.Source.File(r.Key)
	if err != nil {
		return err
	}
	if !binarycache.IsFileURL(r.Store) {
		cmd, err := r.Source.SignCommand(r.Key, r.Store, keyFile, r.Paths)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, cmd)
		rep.Printf("keyform writes only file:// caches; run the command above where the key and write access to %s are", binarycache.Redact(r.Store))
		return nil
	}
	if r.Paths != "" {
		rep.Warnf("--paths is ignored for %s: file:// caches are listed", binarycache.Redact(r.Store))
	}
	sk, err := r.Source.Read(r.Key, keyFile)
	if err != nil {
		return err
	}
	url, res, err := Store(ctx, r.Store, Options{Key: sk, Jobs: r.Jobs, DryRun: r.DryRun})
	if err != nil {
		return err
	}
	if err := Write(w, r.Format, url, sk.Name, res); err != nil {
		return err
	}
	if note := res.CacheNote(r.Now); note != "" {
		rep.Notef("%s", note)
	}
	return res.Err()
}
