package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keyform/keyform/internal/cachegen"
	"github.com/keyform/keyform/keys"
)

// The testscript commands of the audit, resign and retire scripts:
//
//	cachegen [-seed N] [-corrupt K] [-list FILE] DIR PATHS [SECRETFILE...]
//
// adds PATHS synthetic narinfos (internal/cachegen) to the file:// cache
// DIR, each signed by every secret key file given, in order (none:
// unsigned); -corrupt K flips a character of the first signature of the
// first K of them, so it no longer verifies; -list FILE appends their
// store paths to FILE, one per line (a paths list for HTTP audits). The
// same seed and keys give the same narinfos.
//
//	serve [-auth USER:PASS] [-fail N] DIR
//
// serves DIR over HTTP on a loopback port until the script ends and sets
// $SERVER to its URL, $SERVER_ADDR to its HOST:PORT. -auth requires HTTP basic authentication; -fail N
// answers the first N requests for each narinfo with 503, so the client
// must retry.
func cmdCachegen(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("cachegen", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "")
	corrupt := fs.Int("corrupt", 0, "")
	list := fs.String("list", "", "")
	if neg || fs.Parse(args) != nil || fs.NArg() < 2 {
		ts.Fatalf("usage: cachegen [-seed N] [-corrupt K] [-list FILE] DIR PATHS [SECRETFILE...]")
	}
	dir := ts.MkAbs(fs.Arg(0))
	var n int
	if _, err := fmt.Sscan(fs.Arg(1), &n); err != nil {
		ts.Fatalf("cachegen: PATHS %q: %v", fs.Arg(1), err)
	}
	var signers []*keys.SecretKey
	for _, f := range fs.Args()[2:] {
		sk, err := keys.ParseSecretKey(ts.ReadFile(f))
		ts.Check(err)
		signers = append(signers, sk)
	}
	paths, err := cachegen.Generate(dir, cachegen.Options{Paths: n, Signers: signers, Seed: *seed})
	ts.Check(err)
	if *list != "" {
		f, err := os.OpenFile(ts.MkAbs(*list), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		ts.Check(err)
		for _, p := range paths {
			fmt.Fprintln(f, p.StorePath)
		}
		ts.Check(f.Close())
	}
	for _, p := range paths[:min(*corrupt, len(paths))] {
		file := filepath.Join(dir, p.Hash+".narinfo")
		text, err := os.ReadFile(file)
		ts.Check(err)
		i := bytes.Index(text, []byte("\nSig: "))
		if i < 0 {
			ts.Fatalf("cachegen: -corrupt needs signed narinfos")
		}
		i += len("\nSig: ")
		i += bytes.IndexByte(text[i:], ':') + 10 // into the base64, past "NAME:"
		text[i] = map[bool]byte{true: 'B', false: 'A'}[text[i] == 'A']
		ts.Check(os.WriteFile(file, text, 0o644))
	}
}

func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	auth := fs.String("auth", "", "")
	fail := fs.Int64("fail", 0, "")
	if neg || fs.Parse(args) != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: serve [-auth USER:PASS] [-fail N] DIR")
	}
	files := http.FileServer(http.Dir(ts.MkAbs(fs.Arg(0))))
	var failures sync.Map // narinfo path -> *atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *auth != "" {
			user, pass, ok := r.BasicAuth()
			if !ok || user+":"+pass != *auth {
				w.Header().Set("WWW-Authenticate", `Basic realm="cache"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		if strings.HasSuffix(r.URL.Path, ".narinfo") && *fail > 0 {
			c, _ := failures.LoadOrStore(r.URL.Path, new(atomic.Int64))
			if c.(*atomic.Int64).Add(1) <= *fail {
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
		}
		files.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: handler}
	go srv.Serve(l)
	ts.Defer(func() { srv.Close() })
	ts.Setenv("SERVER", "http://"+l.Addr().String())
	ts.Setenv("SERVER_ADDR", l.Addr().String())
}
