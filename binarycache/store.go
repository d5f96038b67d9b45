// Package binarycache reads the narinfo files of Nix binary caches:
// file:// directories (listed) and http(s):// caches (looked up by hash,
// since HTTP caches cannot be listed). A [Store] is the narrow interface
// one kind of cache implements; [Walk] does the rest (concurrency,
// de-duplication, counting), so another kind (s3://, listed with the AWS
// SDK) is one more Store and nothing else.
//
// Nothing here holds more than one narinfo per worker: caches of any size
// are read with memory bounded by the number of jobs.
package binarycache

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	"github.com/keyform/keyform/keys"
)

// Store is one binary cache whose narinfos can be read.
//
// Implementations must be safe for concurrent use: [Walk] calls Get from
// several goroutines at once.
type Store interface {
	// URL is the store's address for messages: never with credentials.
	URL() string
	// Info is what the cache's nix-cache-info says, read when the store
	// was opened.
	Info() Info
	// List calls fn with the hash part (32 nix32 characters) of every
	// narinfo in the store, in any order, and stops at fn's first error.
	// Stores that cannot be listed return an error wrapping
	// [ErrNotListable] without calling fn.
	List(ctx context.Context, fn func(hash string) error) error
	// Get appends the narinfo text for hash to buf[:0] and returns it,
	// with where it was read (a file path or a URL without credentials).
	// A narinfo the cache does not hold is an error wrapping
	// [ErrNotFound]; one it serves but that is not a narinfo (not a
	// regular file, larger than the limit) wraps [ErrRefused]. Other
	// errors mean the store could not be read.
	Get(ctx context.Context, hash string, buf []byte) (data []byte, where string, err error)
	// Close releases what the store holds open (a directory,
	// connections).
	Close() error
}

// Info holds the fields of nix-cache-info that readers need.
type Info struct {
	// StoreDir is the store directory of the cache's paths, usually
	// /nix/store.
	StoreDir string
	// WantMassQuery and Priority are as the cache declares them (false
	// and 0 when absent).
	WantMassQuery bool
	Priority      int
}

var (
	// ErrNotFound is wrapped when a cache does not hold a narinfo.
	ErrNotFound = errors.New("not in the cache")
	// ErrNotListable is wrapped by List for stores that cannot be
	// listed, such as HTTP caches: give the paths to look up instead.
	ErrNotListable = errors.New("store cannot be listed")
	// ErrRefused is wrapped when a cache serves something that cannot be
	// a narinfo (not a regular file, or larger than the size limit).
	ErrRefused = errors.New("not a narinfo")
	// ErrUnsupported is wrapped by Open for store URLs keyform cannot read.
	ErrUnsupported = errors.New("unsupported store")
)

// Options configure Open. The zero value is sensible.
type Options struct {
	// MaxNarinfoSize is the largest narinfo read, in bytes; 0 means
	// keys.MaxNarinfoSize.
	MaxNarinfoSize int64
	// HTTP configures http:// and https:// stores.
	HTTP HTTPOptions
}

func (o Options) maxSize() int64 {
	if o.MaxNarinfoSize > 0 {
		return o.MaxNarinfoSize
	}
	return keys.MaxNarinfoSize
}

// Open opens the store at rawURL: "file:///dir" (or a plain absolute
// directory path), "http://..." or "https://...". It reads nix-cache-info
// and fails when the store is unreachable or is not a binary cache. Query
// parameters (Nix's ?compression=... and the like) are ignored.
func Open(ctx context.Context, rawURL string, o Options) (Store, error) {
	if strings.HasPrefix(rawURL, "/") {
		return OpenFile(rawURL, o)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store URL %s: %w", Redact(rawURL), errors.Unwrap(err))
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("store URL %s: file:// URLs name a local directory: write file:///dir (three slashes)", Redact(rawURL))
		}
		if u.Path == "" {
			return nil, fmt.Errorf("store URL %s has no directory: write file:///dir", Redact(rawURL))
		}
		return OpenFile(u.Path, o)
	case "http", "https":
		return OpenHTTP(ctx, u, o)
	case "s3":
		return nil, fmt.Errorf("store %s: %w: s3:// caches are not supported yet: audit them over their HTTP(S) endpoint with --paths", Redact(rawURL), ErrUnsupported)
	default:
		return nil, fmt.Errorf("store %s: %w: keyform reads file:///dir, http:// and https:// caches", Redact(rawURL), ErrUnsupported)
	}
}

// Redact returns rawURL without user information (credentials) and
// without query parameters (which may hold secrets such as Nix's
// secret-key=), for messages.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Cut anything that could be user information.
		if i := strings.LastIndexByte(rawURL, '@'); i >= 0 {
			if j := strings.Index(rawURL, "://"); j >= 0 && j < i {
				return rawURL[:j+3] + "REDACTED@" + rawURL[i+1:]
			}
			return "REDACTED"
		}
		return rawURL
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	return u.String()
}

// DefaultJobs is the number of narinfos read at once when Walk is given
// no number: for local directories one per core (reading is cheap and
// checking signatures is the work), for HTTP caches 25, Nix's
// http-connections default, since most of the time is waiting.
func DefaultJobs(s Store) int {
	if _, ok := s.(*FileStore); ok {
		return runtime.GOMAXPROCS(0)
	}
	return 25
}

// parseCacheInfo reads nix-cache-info ("Name: value" lines).
func parseCacheInfo(text []byte, where string) (Info, error) {
	info := Info{StoreDir: "/nix/store"}
	for i, line := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return Info{}, fmt.Errorf("%s line %d: no ':': this is not a binary cache's nix-cache-info", where, i+1)
		}
		value = strings.TrimSpace(value)
		switch name {
		case "StoreDir":
			if !strings.HasPrefix(value, "/") || strings.ContainsAny(value, " ;,") {
				return Info{}, fmt.Errorf("%s line %d: StoreDir %.80q is not an absolute directory", where, i+1, value)
			}
			info.StoreDir = strings.TrimSuffix(value, "/")
		case "WantMassQuery":
			info.WantMassQuery = value == "1"
		case "Priority":
			fmt.Sscan(value, &info.Priority)
		}
	}
	return info, nil
}

// validHash reports whether h is a store path hash part: 32 characters
// of Nix's base-32 alphabet.
func validHash(h string) bool {
	if len(h) != HashLen {
		return false
	}
	for i := 0; i < len(h); i++ {
		if !isNix32(h[i]) {
			return false
		}
	}
	return true
}

// HashLen is the length of a store path's hash part.
const HashLen = 32

func isNix32(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' && c != 'e' && c != 'o' && c != 't' && c != 'u'
}
