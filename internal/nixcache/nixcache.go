// Package nixcache builds real binary caches with real Nix for tests: a
// few dozen fresh input-addressed store paths (nix-build, sandbox off),
// signed with nix store sign, copied with nix copy to a file:// cache, and
// served by a real nginx. The audit package compares its counts with nix
// store verify on them, and cmd/keyform runs the CLI end to end.
//
// Helpers skip the test when nix (or nginx) is missing, unless
// KEYFORM_REQUIRE_NIX=1, which makes that a failure. Building needs a
// writable Nix store: root on a single-user install.
package nixcache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyform/keyform/keys"
)

func Require(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if _, serr := os.Stat("/usr/sbin/" + tool); serr == nil {
				// Debian installs nginx in /usr/sbin, which a user's PATH may lack.
				continue
			}
			if os.Getenv("KEYFORM_REQUIRE_NIX") == "1" {
				t.Fatalf("%s is not on PATH but KEYFORM_REQUIRE_NIX=1: install it or unset the variable", tool)
			}
			t.Skipf("%s is not on PATH (set KEYFORM_REQUIRE_NIX=1 to make this a failure)", tool)
		}
	}
}

// Opts keep Nix off the network and out of the build sandbox.
var Opts = []string{"--option", "substituters", "", "--option", "build-users-group", "", "--option", "sandbox", "false"}

// run runs a command and returns stdout, stderr and the exit code; a
// failure to start or a timeout fails the test.
func Run(t testing.TB, name string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		code = exit.ExitCode()
	default:
		t.Fatalf("%s %q: %v\nstderr: %s", name, args, err, errb.String())
	}
	return out.String(), errb.String(), code
}

func Nix(t testing.TB, args ...string) string {
	t.Helper()
	out, stderr, code := Run(t, "nix", append([]string{"--extra-experimental-features", "nix-command"}, args...)...)
	if code != 0 {
		t.Fatalf("nix %q exited %d\nstderr: %s", args, code, stderr)
	}
	return out
}

type Key struct {
	File string // secret key file
	SK   *keys.SecretKey
	Pub  string
}

func NewKey(t testing.TB, dir, name string) Key {
	t.Helper()
	secret := Nix(t, "key", "generate-secret", "--key-name", name)
	file := filepath.Join(dir, name+".sk")
	if err := os.WriteFile(file, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	sk, err := keys.ParseSecretKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return Key{File: file, SK: sk, Pub: sk.Public().String()}
}

// Cache is a file:// cache written by nix copy: paths signed by the old
// key only, by both keys, by the new key only, by neither, one with the
// old key's signature corrupted, and two content-addressed ones.
type Cache struct {
	Dir                          string
	Old, New                     Key
	OldOnly, Both, NewOnly, None []string
	Corrupt                      string   // in Both, Old's signature corrupted
	CA, FakeCA                   string   // content-addressed, unsigned; the second's CA field altered
	All                          []string // sorted
}

// buildPaths builds n fresh input-addressed paths in groups; within a
// group each path refers to the one before it.
func BuildPaths(t testing.TB, dir string, groups map[string]int) map[string][]string {
	t.Helper()
	var nonce [8]byte
	rand.Read(nonce[:])
	var b strings.Builder
	fmt.Fprintf(&b, "let nonce = %q;\n  mk = g: i: prev: derivation { name = \"audit-${g}-${toString i}-${nonce}\"; system = builtins.currentSystem; builder = \"/bin/sh\"; args = [ \"-c\" \"echo ${g} ${toString i} ${prev} > $out\" ]; };\n", hex.EncodeToString(nonce[:]))
	b.WriteString("  chain = g: n: builtins.foldl' (acc: i: acc ++ [ (mk g i (if acc == [] then \"\" else builtins.elemAt acc (builtins.length acc - 1))) ]) [] (builtins.genList (x: x) n);\nin {\n")
	names := slices.Sorted(func(yield func(string) bool) {
		for g := range groups {
			if !yield(g) {
				return
			}
		}
	})
	for _, g := range names {
		fmt.Fprintf(&b, "  %s = chain %q %d;\n", g, g, groups[g])
	}
	b.WriteString("}\n")
	file := filepath.Join(dir, "paths.nix")
	os.WriteFile(file, []byte(b.String()), 0o644)
	out := map[string][]string{}
	for _, g := range names {
		stdout, stderr, code := Run(t, "nix-build", append(slices.Clone(Opts), "--no-out-link", file, "-A", g)...)
		if code != 0 {
			t.Fatalf("nix-build exited %d (is the Nix store writable? run as root)\n%s", code, stderr)
		}
		out[g] = strings.Fields(stdout)
		if len(out[g]) != groups[g] {
			t.Fatalf("nix-build -A %s printed %d paths, want %d", g, len(out[g]), groups[g])
		}
	}
	return out
}

func NewCache(t testing.TB) *Cache {
	t.Helper()
	Require(t, "nix", "nix-build")
	dir := t.TempDir()
	c := &Cache{Dir: filepath.Join(dir, "cache")}
	c.Old = NewKey(t, dir, "audit-old-1")
	c.New = NewKey(t, dir, "audit-new-1")
	g := BuildPaths(t, dir, map[string]int{"oldonly": 10, "both": 10, "newonly": 6, "none": 6})
	c.OldOnly, c.Both, c.NewOnly, c.None = g["oldonly"], g["both"], g["newonly"], g["none"]
	Nix(t, append([]string{"store", "sign", "--key-file", c.Old.File}, append(slices.Clone(c.OldOnly), c.Both...)...)...)
	Nix(t, append([]string{"store", "sign", "--key-file", c.New.File}, append(slices.Clone(c.NewOnly), c.Both...)...)...)
	// Two content-addressed paths (nix-store --add-fixed), unsigned.
	for i, p := range []*string{&c.CA, &c.FakeCA} {
		f := filepath.Join(dir, fmt.Sprintf("ca%d", i))
		os.WriteFile(f, []byte(fmt.Sprintf("%s %d\n", dir, i)), 0o644)
		out, stderr, code := Run(t, "nix-store", "--add-fixed", "sha256", f)
		if code != 0 {
			t.Fatalf("nix-store --add-fixed: %s", stderr)
		}
		*p = strings.TrimSpace(out)
	}
	c.All = slices.Concat(c.OldOnly, c.Both, c.NewOnly, c.None, []string{c.CA, c.FakeCA})
	Nix(t, append(append(slices.Clone(Opts), "copy", "--to", "file://"+c.Dir+"?compression=none"), c.All...)...)
	// Corrupt old's signature on one path signed by both: flip one
	// base64 character.
	c.Corrupt = c.Both[3]
	file := NarinfoFile(c.Dir, c.Corrupt)
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(text, []byte("Sig: audit-old-1:")) + len("Sig: audit-old-1:") + 10
	if text[i] == 'A' {
		text[i] = 'B'
	} else {
		text[i] = 'A'
	}
	os.WriteFile(file, text, 0o644)
	// A CA field that does not give the path: Nix then wants a signature.
	file = NarinfoFile(c.Dir, c.FakeCA)
	text, _ = os.ReadFile(file)
	i = bytes.Index(text, []byte("CA: fixed:sha256:")) + len("CA: fixed:sha256:") + 20
	text[i] = map[bool]byte{true: '1', false: '0'}[text[i] == '0']
	os.WriteFile(file, text, 0o644)
	slices.Sort(c.All)
	return c
}

func NarinfoFile(dir, storePath string) string {
	return filepath.Join(dir, filepath.Base(storePath)[:32]+".narinfo")
}

var untrustedRE = regexp.MustCompile(`path '([^']+)' is untrusted`)

// Untrusted runs nix store verify over the whole cache with the given
// trusted keys and returns the paths it calls untrusted, sorted, and its
// exit status. nix is the nix command to run (a version's, from nixtest),
// or "" for the one on PATH.
func Untrusted(t testing.TB, nix, dir string, trusted ...string) ([]string, int) {
	t.Helper()
	if nix == "" {
		nix = "nix"
	}
	_, stderr, code := Run(t, nix, "--extra-experimental-features", "nix-command", "store", "verify",
		"--store", "file://"+dir, "--all", "--no-contents", "--trusted-public-keys", strings.Join(trusted, " "))
	var out []string
	for _, m := range untrustedRE.FindAllStringSubmatch(stderr, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	if code&^2 != 0 {
		t.Fatalf("nix store verify exited %d:\n%s", code, stderr)
	}
	return out, code
}

// nginx serves dir on a free loopback port until the test ends, and
// returns its URL.
func Nginx(t testing.TB, dir string) string {
	t.Helper()
	Require(t, "nginx")
	work := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	user := ""
	if os.Geteuid() == 0 {
		// Workers would run as nobody, who cannot enter the test's 0700
		// temporary directories.
		user = "user root;"
	}
	conf := fmt.Sprintf(`%s
daemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  keepalive_requests 100000;
  server {
    listen %[3]s;
    root %[4]s;
    location / { }
  }
}
`, user, work, addr, dir)
	confFile := filepath.Join(work, "nginx.conf")
	os.WriteFile(confFile, []byte(conf), 0o644)
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
	}
	cmd := exec.Command(bin, "-c", confFile, "-p", work, "-e", filepath.Join(work, "error.log"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/nix-cache-info")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(work, "error.log"))
			t.Fatalf("nginx did not serve %s: %v %s\n%s", url, err, stderr.String(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
