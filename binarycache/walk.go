package binarycache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Entry is one narinfo as Walk hands it over.
type Entry struct {
	// Hash is the hash part of the store path the narinfo is for, as
	// listed or requested; the narinfo's own StorePath may disagree (a
	// corrupt or hostile cache), which the caller should check.
	Hash string
	// Where the narinfo was read: a file path or a URL without credentials.
	Where string
	// Data is the narinfo text. It is only valid during the call: the
	// buffer is reused for the next narinfo of the same worker.
	Data []byte
	// Err is set, and Data nil, when the cache served something that is
	// not a narinfo (it wraps ErrRefused).
	Err error
}

// WalkOptions say what Walk reads and how.
type WalkOptions struct {
	// Jobs is how many narinfos are read (and handed to fn) at once;
	// 0 means DefaultJobs(store).
	Jobs int
	// Paths, when not nil, lists what to look up: one store path
	// (/nix/store/HASH-NAME), base name (HASH-NAME), hash or HASH.narinfo
	// per line, as `nix path-info -r` prints them; blank lines are
	// skipped. Without Paths the store is listed.
	Paths io.Reader
}

// WalkStats count what Walk did.
type WalkStats struct {
	// Requested counts distinct narinfos listed or named in Paths.
	Requested int64
	// Duplicates counts lines of Paths naming a narinfo already named.
	Duplicates int64
	// NotFound counts requested narinfos the cache does not hold (HTTP
	// 404, 410 or 403, or a file listed but removed before it was read).
	NotFound int64
	// Read counts narinfos handed to fn (including refused ones).
	Read int64
}

// Walk reads narinfos from s and calls fn for each, from o.Jobs
// goroutines at once; worker (0 <= worker < jobs) says which, so callers
// can keep per-worker state without locks. Listing (or reading Paths)
// runs ahead of the readers by a bounded queue, so memory does not grow
// with the store. De-duplicating Paths keeps 32 bytes per distinct line.
//
// Walk stops at the first error from fn, from listing, or from reading a
// narinfo (other than ErrNotFound and ErrRefused), and returns it.
func Walk(ctx context.Context, s Store, o WalkOptions, fn func(worker int, e *Entry) error) (WalkStats, error) {
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = DefaultJobs(s)
	}
	// Local files are handed to workers in batches: one channel operation
	// (and possibly a goroutine wake-up) per narinfo cost as much as
	// reading it. Network lookups go one by one, so that a short paths
	// list still spreads over all connections.
	batch := 1
	if _, ok := s.(*FileStore); ok {
		batch = 64
	}
	var st WalkStats
	var notFound, read atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []string, 2*jobs)
	g.Go(func() error {
		defer close(batches)
		cur := make([]string, 0, batch)
		flush := func() error {
			if len(cur) == 0 {
				return nil
			}
			select {
			case batches <- cur:
				cur = make([]string, 0, batch)
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		send := func(h string) error {
			st.Requested++
			cur = append(cur, h)
			if len(cur) == batch {
				return flush()
			}
			return nil
		}
		var err error
		if o.Paths == nil {
			err = s.List(gctx, send)
		} else {
			seen := map[[HashLen]byte]struct{}{}
			err = ReadHashes(o.Paths, func(h string) error {
				k := [HashLen]byte([]byte(h))
				if _, dup := seen[k]; dup {
					st.Duplicates++
					return nil
				}
				seen[k] = struct{}{}
				return send(h)
			})
		}
		if err != nil {
			return err
		}
		return flush()
	})
	for w := range jobs {
		g.Go(func() error {
			// A batch is read whole before fn sees any of it: the system
			// calls of reading, grouped, leave fn's work (signature checks)
			// to run back to back on warm caches and branch predictors.
			bufs := make([][]byte, batch)
			entries := make([]Entry, 0, batch)
			// Counted locally: two workers incrementing one shared counter
			// per narinfo would contend for its cache line.
			var nRead, nNotFound int64
			defer func() { read.Add(nRead); notFound.Add(nNotFound) }()
			for hs := range batches {
				entries = entries[:0]
				for i, h := range hs {
					data, where, err := s.Get(gctx, h, bufs[i])
					switch {
					case errors.Is(err, ErrNotFound):
						nNotFound++
						continue
					case errors.Is(err, ErrRefused):
						entries = append(entries, Entry{Hash: h, Where: where, Err: err})
					case err != nil:
						return err
					default:
						bufs[i] = data
						entries = append(entries, Entry{Hash: h, Where: where, Data: data})
					}
				}
				for i := range entries {
					nRead++
					if err := fn(w, &entries[i]); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	err := g.Wait()
	st.NotFound, st.Read = notFound.Load(), read.Load()
	return st, err
}

// maxPathLine bounds one line of a paths list.
const maxPathLine = 64 << 10

// ReadHashes reads a paths list (see WalkOptions.Paths) and calls fn with
// the hash part of each entry, in order. A line that names no store path
// is an error naming the line.
func ReadHashes(r io.Reader, fn func(hash string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxPathLine)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		h, err := HashOf(text)
		if err != nil {
			return fmt.Errorf("paths line %d: %w", line, err)
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("paths list: a line is longer than %d bytes: expected one store path per line", maxPathLine)
		}
		return fmt.Errorf("paths list: %w", err)
	}
	return nil
}

// HashOf returns the hash part of a store path (/nix/store/HASH-NAME), a
// base name (HASH-NAME), a narinfo name (HASH.narinfo) or a bare hash.
func HashOf(s string) (string, error) {
	base := s
	if strings.HasPrefix(s, "/") {
		base = s[strings.LastIndexByte(s, '/')+1:]
	}
	if h, ok := strings.CutSuffix(base, ".narinfo"); ok && !strings.HasPrefix(s, "/") {
		base = h
	}
	if len(base) >= HashLen && validHash(base[:HashLen]) && (len(base) == HashLen || base[HashLen] == '-' && len(base) > HashLen+1) {
		return base[:HashLen], nil
	}
	return "", fmt.Errorf("%.80q is not a store path: expected /nix/store/HASH-NAME, HASH-NAME or the 32-character HASH", s)
}
