package binarycache

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStoreURLKinds(t *testing.T) {
	for _, c := range []struct {
		url        string
		file, http bool
	}{
		{"/srv/cache", true, false},
		{"file:///srv/cache", true, false},
		{"http://cache.example", false, true},
		{"https://user:pw@cache.example/x", false, true},
		{"s3://bucket", false, false},
		{"srv/cache", false, false},
		{"http://[::1", false, false},
	} {
		if IsFileURL(c.url) != c.file || IsHTTPURL(c.url) != c.http {
			t.Errorf("%s: file %v, http %v; want %v, %v", c.url, IsFileURL(c.url), IsHTTPURL(c.url), c.file, c.http)
		}
	}
}

// A local store never reads the netrc file; others do, and a netrc that
// cannot be read fails the open.
func TestOpenWithNetrc(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nix-cache-info"), []byte("StoreDir: /nix/store\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notAFile := t.TempDir() // a directory: LoadNetrc refuses it
	s, err := OpenWithNetrc(context.Background(), "file://"+dir, notAFile, 1)
	if err != nil {
		t.Fatalf("file store read the netrc: %v", err)
	}
	s.Close()
	if _, err := OpenWithNetrc(context.Background(), "http://127.0.0.1:1", notAFile, 1); err == nil || !strings.Contains(err.Error(), notAFile) {
		t.Errorf("HTTP store with an unreadable netrc: %v", err)
	}
}
