package audit_test

// Tests against real Nix and a real nginx. They skip when nix (or nginx)
// is missing, unless KEYFORM_REQUIRE_NIX=1, which makes that a failure:
//
//	KEYFORM_REQUIRE_NIX=1 go test -run 'Nix' -v ./audit/
//
// They build a few dozen fresh input-addressed store paths (needs a
// writable Nix store: root on a single-user install), sign them with
// `nix store sign`, copy them to a file:// cache with `nix copy`, and
// compare keyform's audit with `nix store verify` path by path.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/resign"
)

func require(t *testing.T, tools ...string) {
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

// nixOpts keep Nix off the network and out of the build sandbox.
var nixOpts = []string{"--option", "substituters", "", "--option", "build-users-group", "", "--option", "sandbox", "false"}

// run runs a command and returns stdout, stderr and the exit code; a
// failure to start or a timeout fails the test.
func run(t *testing.T, name string, args ...string) (string, string, int) {
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

func nix(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, code := run(t, "nix", append([]string{"--extra-experimental-features", "nix-command"}, args...)...)
	if code != 0 {
		t.Fatalf("nix %q exited %d\nstderr: %s", args, code, stderr)
	}
	return out
}

type nixKey struct {
	file string // secret key file
	sk   *keys.SecretKey
	pub  string
}

func newNixKey(t *testing.T, dir, name string) nixKey {
	t.Helper()
	secret := nix(t, "key", "generate-secret", "--key-name", name)
	file := filepath.Join(dir, name+".sk")
	if err := os.WriteFile(file, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	sk, err := keys.ParseSecretKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return nixKey{file: file, sk: sk, pub: sk.Public().String()}
}

// realCache is a file:// cache written by nix copy.
type realCache struct {
	dir                          string
	old, new                     nixKey
	oldOnly, both, newOnly, none []string
	corrupt                      string // in both, old's signature corrupted
	ca, fakeCA                   string // content-addressed, unsigned; the second's CA field altered
	all                          []string
}

// buildPaths builds n fresh input-addressed paths in groups; within a
// group each path refers to the one before it.
func buildPaths(t *testing.T, dir string, groups map[string]int) map[string][]string {
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
		stdout, stderr, code := run(t, "nix-build", append(slices.Clone(nixOpts), "--no-out-link", file, "-A", g)...)
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

func newRealCache(t *testing.T) *realCache {
	t.Helper()
	require(t, "nix", "nix-build")
	dir := t.TempDir()
	c := &realCache{dir: filepath.Join(dir, "cache")}
	c.old = newNixKey(t, dir, "audit-old-1")
	c.new = newNixKey(t, dir, "audit-new-1")
	g := buildPaths(t, dir, map[string]int{"oldonly": 10, "both": 10, "newonly": 6, "none": 6})
	c.oldOnly, c.both, c.newOnly, c.none = g["oldonly"], g["both"], g["newonly"], g["none"]
	nix(t, append([]string{"store", "sign", "--key-file", c.old.file}, append(slices.Clone(c.oldOnly), c.both...)...)...)
	nix(t, append([]string{"store", "sign", "--key-file", c.new.file}, append(slices.Clone(c.newOnly), c.both...)...)...)
	// Two content-addressed paths (nix-store --add-fixed), unsigned.
	for i, p := range []*string{&c.ca, &c.fakeCA} {
		f := filepath.Join(dir, fmt.Sprintf("ca%d", i))
		os.WriteFile(f, []byte(fmt.Sprintf("%s %d\n", dir, i)), 0o644)
		out, stderr, code := run(t, "nix-store", "--add-fixed", "sha256", f)
		if code != 0 {
			t.Fatalf("nix-store --add-fixed: %s", stderr)
		}
		*p = strings.TrimSpace(out)
	}
	c.all = slices.Concat(c.oldOnly, c.both, c.newOnly, c.none, []string{c.ca, c.fakeCA})
	nix(t, append(append(slices.Clone(nixOpts), "copy", "--to", "file://"+c.dir+"?compression=none"), c.all...)...)
	// Corrupt old's signature on one path signed by both: flip one
	// base64 character.
	c.corrupt = c.both[3]
	file := narinfoFile(c.dir, c.corrupt)
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
	file = narinfoFile(c.dir, c.fakeCA)
	text, _ = os.ReadFile(file)
	i = bytes.Index(text, []byte("CA: fixed:sha256:")) + len("CA: fixed:sha256:") + 20
	text[i] = map[bool]byte{true: '1', false: '0'}[text[i] == '0']
	os.WriteFile(file, text, 0o644)
	slices.Sort(c.all)
	return c
}

func narinfoFile(dir, storePath string) string {
	return filepath.Join(dir, filepath.Base(storePath)[:32]+".narinfo")
}

var untrustedRE = regexp.MustCompile(`path '([^']+)' is untrusted`)

// nixUntrusted runs nix store verify over the whole cache with the given
// trusted keys and returns the paths it calls untrusted, sorted.
func nixUntrusted(t *testing.T, dir string, trusted ...string) ([]string, int) {
	t.Helper()
	_, stderr, code := run(t, "nix", "--extra-experimental-features", "nix-command", "store", "verify",
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

func auditKeys(c *realCache, oldState, newState policy.KeyState) []*policy.Key {
	return []*policy.Key{
		{Label: "acme_old", Name: c.old.sk.Name, PublicKey: c.old.pub, State: oldState},
		{Label: "acme_new", Name: c.new.sk.Name, PublicKey: c.new.pub, State: newState},
	}
}

func runAudit(t *testing.T, store string, ks []*policy.Key, paths []string) *audit.Report {
	t.Helper()
	s, err := binarycache.Open(context.Background(), store, binarycache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := audit.Options{Catalog: "acme", Keys: ks, Examples: 1000}
	if paths != nil {
		o.Paths = strings.NewReader(strings.Join(paths, "\n") + "\n")
	}
	r, err := audit.Run(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// notCovered is what Nix calls untrusted when it trusts the report's
// active keys: paths signed only by retired keys, or by none.
func notCovered(r *audit.Report) []string {
	out := slices.Concat(r.Examples.RetiredOnly, r.Examples.Unsigned)
	slices.Sort(out)
	return out
}

func TestNixAuditMatchesVerify(t *testing.T) {
	c := newRealCache(t)
	for _, tc := range []struct {
		name             string
		oldState, newSt  policy.KeyState
		trusted          []string
		covered, retired int64
	}{
		{"new_active_old_retired", policy.Retired, policy.Active, []string{c.new.pub}, 10 + 6, 10},
		{"old_active_new_retired", policy.Active, policy.Retired, []string{c.old.pub}, 10 + 9, 6 + 1},
		{"both_active", policy.Active, policy.Active, []string{c.old.pub, c.new.pub}, 10 + 10 + 6, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runAudit(t, "file://"+c.dir, auditKeys(c, tc.oldState, tc.newSt), nil)
			untrusted, code := nixUntrusted(t, c.dir, tc.trusted...)
			if got := notCovered(r); !slices.Equal(got, untrusted) {
				t.Fatalf("keyform: %d paths not covered, nix store verify: %d untrusted\nkeyform %v\nnix     %v", len(got), len(untrusted), got, untrusted)
			}
			if (code == 0) != (r.RetiredOnly+r.Unsigned == 0) {
				t.Fatalf("nix exit %d, keyform retired-only %d unsigned %d", code, r.RetiredOnly, r.Unsigned)
			}
			if r.Paths != 34 || r.Covered != tc.covered || r.RetiredOnly != tc.retired || r.Unsigned != 6+1 ||
				r.ContentAddressed != 1 || r.Invalid != 1 || r.Malformed != 0 {
				t.Fatalf("counts: %+v", r)
			}
			if r.Examples.Invalid[0].Path != c.corrupt || r.Keys["audit-old-1"].Invalid != 1 {
				t.Fatalf("invalid: %+v", r.Examples.Invalid)
			}
		})
	}
}

// nginx serves dir on a free loopback port until the test ends, and
// returns its URL.
func nginx(t *testing.T, dir string) string {
	t.Helper()
	require(t, "nginx")
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

func TestNixAuditOverNginx(t *testing.T) {
	c := newRealCache(t)
	url := nginx(t, c.dir)
	ks := auditKeys(c, policy.Retired, policy.Active)
	local := runAudit(t, "file://"+c.dir, ks, nil)
	missing := "/nix/store/" + strings.Repeat("0", 32) + "-not-cached"
	remote := runAudit(t, url, ks, append(slices.Clone(c.all), missing))
	if remote.NotFound != 1 || remote.Store != url {
		t.Fatalf("not found %d, store %s", remote.NotFound, remote.Store)
	}
	remote.Store, remote.NotFound = local.Store, 0
	a, _ := json.Marshal(local)
	b, _ := json.Marshal(remote)
	if !bytes.Equal(a, b) {
		t.Fatalf("audit over HTTP differs from the file:// audit:\n%s\n%s", b, a)
	}
}

func TestNixResign(t *testing.T) {
	c := newRealCache(t)
	before := map[string][]byte{}
	for _, p := range c.all {
		before[p], _ = os.ReadFile(narinfoFile(c.dir, p))
	}
	if untrusted, _ := nixUntrusted(t, c.dir, c.new.pub); len(untrusted) != 10+6+1 {
		t.Fatalf("before resign nix finds %d untrusted paths, want 17", len(untrusted))
	}
	if err := resign.CheckKey(c.new.sk, c.new.pub); err != nil {
		t.Fatal(err)
	}
	s, err := binarycache.OpenFile(c.dir, binarycache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := resign.File(context.Background(), s, resign.Options{Key: c.new.sk})
	if err != nil || res.Signed != 18 || res.AlreadySigned != 16 || res.Malformed != 0 {
		t.Fatalf("resign: %+v %v", res, err)
	}
	if untrusted, code := nixUntrusted(t, c.dir, c.new.pub); code != 0 || len(untrusted) != 0 {
		t.Fatalf("after resign nix store verify exits %d, untrusted %v", code, untrusted)
	}
	// Every line but the new Sig line is unchanged, in place.
	for _, p := range c.all {
		now, _ := os.ReadFile(narinfoFile(c.dir, p))
		if bytes.Equal(now, before[p]) {
			continue
		}
		n, _ := keys.ParseNarinfo(now)
		sig, _ := c.new.sk.SignNarinfo(n)
		if got := bytes.Replace(now, []byte("Sig: "+sig.String()+"\n"), nil, 1); !bytes.Equal(got, before[p]) {
			t.Fatalf("%s changed beyond the new signature:\n%s\nwas\n%s", p, now, before[p])
		}
	}
	again, err := resign.File(context.Background(), s, resign.Options{Key: c.new.sk})
	if err != nil || again.Signed != 0 {
		t.Fatalf("second resign: %+v %v", again, err)
	}
	// A fresh store that trusts only the new key substitutes every path
	// (but the one whose CA field was altered: its content does not match
	// the address it claims, whoever signed it).
	root := filepath.Join(t.TempDir(), "root")
	copyPaths := slices.DeleteFunc(slices.Clone(c.all), func(p string) bool { return p == c.fakeCA })
	_, stderr, code := run(t, "nix", append([]string{"--extra-experimental-features", "nix-command",
		"copy", "--from", "file://" + c.dir, "--store", root,
		"--option", "trusted-public-keys", c.new.pub, "--option", "require-sigs", "true"}, copyPaths...)...)
	if code != 0 {
		t.Fatalf("nix copy --from the resigned cache into a fresh store exited %d:\n%s", code, stderr)
	}
	out, _, _ := run(t, "nix", "--extra-experimental-features", "nix-command", "path-info", "--store", root, c.all[0])
	if strings.TrimSpace(out) != c.all[0] {
		t.Fatalf("path-info in the fresh store: %q", out)
	}
	// And the same copy from the cache before resign is refused.
	if !t.Failed() {
		for _, p := range c.oldOnly[:1] {
			os.WriteFile(narinfoFile(c.dir, p), before[p], 0o644)
			root2 := filepath.Join(t.TempDir(), "root2")
			_, _, code := run(t, "nix", "--extra-experimental-features", "nix-command",
				"copy", "--from", "file://"+c.dir, "--store", root2,
				"--option", "trusted-public-keys", c.new.pub, "--option", "require-sigs", "true", p)
			if code == 0 {
				t.Fatalf("nix copy of %s signed only by the old key succeeded with only the new key trusted", p)
			}
		}
	}
}
