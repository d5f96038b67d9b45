package binarycache

import (
	"context"
	"net/url"
	"strings"
)

// IsFileURL reports whether a store URL names a local directory
// (file:///dir, or an absolute path), which keyform lists and resign
// writes.
func IsFileURL(store string) bool {
	if strings.HasPrefix(store, "/") {
		return true
	}
	u, err := url.Parse(store)
	return err == nil && u.Scheme == "file"
}

// IsHTTPURL reports whether a store URL names an HTTP(S) cache, which
// cannot be listed.
func IsHTTPURL(store string) bool {
	u, err := url.Parse(store)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https")
}

// OpenWithNetrc opens a store as Open does, with credentials from the
// netrc file ("" for Nix's, DefaultNetrcFile), loaded only for stores that
// are not local directories, and a connection for each of jobs (at least
// 25).
func OpenWithNetrc(ctx context.Context, store, netrcFile string, jobs int) (Store, error) {
	o := Options{}
	if !IsFileURL(store) {
		if netrcFile == "" {
			netrcFile = DefaultNetrcFile()
		}
		n, err := LoadNetrc(netrcFile)
		if err != nil {
			return nil, err
		}
		o.HTTP = HTTPOptions{Netrc: n, Conns: max(jobs, 25)}
	}
	return Open(ctx, store, o)
}
