package keys

// Interop tests against the real Nix CLI, on every Nix version
// internal/nixtest finds (KEYFORM_NIX_BINS, else the nix on PATH), each as
// a subtest named after the version. They skip without Nix, unless
// KEYFORM_REQUIRE_NIX=1, which turns a missing nix into a failure. Run them
// with:
//
//	eval "$(.ci/setup-nix)"   # Nix 2.8 and 2.26 side by side
//	KEYFORM_REQUIRE_NIX=1 go test -race -run Interop -v ./keys/
//
// The build test needs a writable Nix store (root on a single-user install,
// or a daemon); it builds a tiny, fresh, input-addressed path with /bin/sh
// and no substituters, so it needs no network.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/nixtest"
)

// nixOpts keep Nix off the network and out of the build sandbox.
var nixOpts = []string{"--option", "substituters", "", "--option", "build-users-group", "", "--option", "sandbox", "false"}

// runCmd runs n's command name with args, feeding stdin, and returns stdout
// and the exit code. A failure to start, or a timeout, fails the test.
func runCmd(t *testing.T, n *nixtest.Nix, stdin []byte, name string, args ...string) (stdout string, code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.Bin(name), args...)
	cmd.Env = n.Environ()
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		code = exit.ExitCode()
	default:
		n.Fatalf(t, "%s %q: %v\nstderr: %s", name, args, err, errb.String())
	}
	n.Logf(t, "$ %s %s  (exit %d)", name, strings.Join(quoteArgs(args), " "), code)
	return out.String(), code, errb.String()
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \"'?&") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

// nix runs `nix --extra-experimental-features nix-command ARGS` and fails
// the test on a non-zero exit.
func nix(t *testing.T, n *nixtest.Nix, stdin []byte, args ...string) string {
	t.Helper()
	out, code, stderr := nixCode(t, n, stdin, args...)
	if code != 0 {
		n.Fatalf(t, "nix %q exited %d\nstderr: %s", args, code, stderr)
	}
	return out
}

func nixCode(t *testing.T, n *nixtest.Nix, stdin []byte, args ...string) (string, int, string) {
	t.Helper()
	return runCmd(t, n, stdin, "nix", append([]string{"--extra-experimental-features", "nix-command"}, args...)...)
}

func writeSecret(t *testing.T, path string, text []byte) string {
	t.Helper()
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// (1) A keyform-generated secret key, converted by Nix, gives the public key
// keyform derives.
func TestInteropConvertSecretToPublic(t *testing.T) {
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
		dir := t.TempDir()
		for i, rnd := range []func() *SecretKey{
			func() *SecretKey { sk, _ := Generate("keyform-interop-1", rand.Reader); return sk },
			func() *SecretKey { return mustGenerate(t, "cache.example.org-2", 42) },
		} {
			sk := rnd()
			file := writeSecret(t, filepath.Join(dir, "sk"+string(rune('0'+i))), sk.Encode())
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := nix(t, n, text, "key", "convert-secret-to-public")
			if want := sk.Public().String(); got != want {
				t.Fatalf("nix key convert-secret-to-public = %q, keyform = %q", got, want)
			}
		}
	})
}

// (2) A Nix-generated secret key parses in keyform, re-encodes byte for byte,
// and derives the public key Nix derives.
func TestInteropGenerateSecret(t *testing.T) {
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
		for _, name := range []string{"keyform-interop-nix", "cache.example.org-1"} {
			secret := nix(t, n, nil, "key", "generate-secret", "--key-name", name)
			if strings.HasSuffix(secret, "\n") {
				t.Logf("note: nix key generate-secret printed a trailing newline")
			}
			sk, err := ParseSecretKey(secret)
			if err != nil {
				t.Fatalf("ParseSecretKey(nix output): %v", err)
			}
			if string(sk.Encode()) != strings.TrimSuffix(secret, "\n") {
				t.Fatal("Encode differs from the nix-generated text")
			}
			nixPub := nix(t, n, []byte(secret), "key", "convert-secret-to-public")
			pk, err := ParsePublicKey(nixPub)
			if err != nil {
				t.Fatalf("ParsePublicKey(nix output): %v", err)
			}
			if !sk.Public().Equal(pk) || sk.Public().String() != nixPub {
				t.Fatalf("keyform derives %q, nix derives %q", sk.Public(), nixPub)
			}
		}
	})
}

// buildProbe builds a fresh input-addressed store path that references two
// dependencies and itself, and returns its path.
func buildProbe(t *testing.T, n *nixtest.Nix, dir string) string {
	t.Helper()
	var nonce [8]byte
	rand.Read(nonce[:])
	expr := `let
  nonce = "` + hex.EncodeToString(nonce[:]) + `";
  dep = n: derivation { name = "probe-${n}-${nonce}"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ${n} > $out" ]; };
  a = dep "a";
  z = dep "z";
in derivation {
  name = "probe-${nonce}";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "echo hi ${a} ${z} $out > $out" ];
}
`
	file := filepath.Join(dir, "probe.nix")
	if err := os.WriteFile(file, []byte(expr), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code, stderr := runCmd(t, n, nil, "nix-build", append(slices.Clone(nixOpts), "--no-out-link", file)...)
	if code != 0 {
		n.Fatalf(t, "nix-build exited %d (is the Nix store writable? run as root or with a daemon)\nstderr: %s", code, stderr)
	}
	path := strings.TrimSpace(out)
	if _, _, err := splitStorePath(path); err != nil {
		t.Fatalf("nix-build printed %q: %v", out, err)
	}
	return path
}

func readNarinfo(t *testing.T, cache, storePath string) []byte {
	t.Helper()
	base := filepath.Base(storePath)
	text, err := os.ReadFile(filepath.Join(cache, base[:storeHashLen]+".narinfo"))
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// withSigs returns narinfo text with its Sig lines replaced by sigs.
func withSigs(text []byte, sigs ...string) []byte {
	var out []string
	for _, l := range strings.SplitAfter(string(text), "\n") {
		if l != "" && !strings.HasPrefix(l, "Sig:") {
			out = append(out, l)
		}
	}
	for _, s := range sigs {
		out = append(out, "Sig: "+s+"\n")
	}
	return []byte(strings.Join(out, ""))
}

// (3) and (4): narinfo signatures made by Nix verify in keyform, and
// signatures made by keyform verify in `nix store verify`.
func TestInteropNarinfoSignatures(t *testing.T) {
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) {
		dir := t.TempDir()
		path := buildProbe(t, n, dir)

		// Sign with a Nix-generated key and copy to a local binary cache.
		nixSecretText := nix(t, n, nil, "key", "generate-secret", "--key-name", "keyform-interop-nix")
		nixKeyFile := writeSecret(t, filepath.Join(dir, "nix.sk"), []byte(nixSecretText))
		nixPubText := nix(t, n, []byte(nixSecretText), "key", "convert-secret-to-public")
		nixPub, err := ParsePublicKey(nixPubText)
		if err != nil {
			t.Fatal(err)
		}
		nix(t, n, nil, "store", "sign", "--key-file", nixKeyFile, path)
		cache := filepath.Join(dir, "cache")
		nix(t, n, nil, append(slices.Clone(nixOpts), "copy", "--to", "file://"+cache+"?compression=none", path)...)
		text := readNarinfo(t, cache, path)
		t.Logf("narinfo written by nix copy:\n%s", text)
		ni, err := ParseNarinfo(text)
		if err != nil {
			t.Fatalf("ParseNarinfo(nix's narinfo): %v", err)
		}
		if ni.StorePath != path || len(ni.References) != 3 || !slices.Contains(ni.References, filepath.Base(path)) {
			t.Fatalf("unexpected narinfo %+v for %s", ni, path)
		}

		t.Run("path_info_matches_narinfo", func(t *testing.T) {
			// nix path-info --json prints the NAR hash in SRI form. Nix 2.8
			// prints a list of objects with a "path" field; since 2.19 it
			// prints an object keyed by store path (Nix 2.26 here).
			type pathInfo struct {
				Path       string   `json:"path"`
				NarHash    string   `json:"narHash"`
				NarSize    uint64   `json:"narSize"`
				References []string `json:"references"`
				Signatures []string `json:"signatures"`
			}
			out := nix(t, n, nil, "path-info", "--json", path)
			var info []pathInfo
			if n.AtLeast("2.19") {
				var byPath map[string]pathInfo
				if err := json.Unmarshal([]byte(out), &byPath); err != nil || len(byPath) != 1 {
					n.Fatalf(t, "path-info (an object keyed by path since Nix 2.19): %s %v", out, err)
				}
				for p, pi := range byPath {
					pi.Path = p
					info = append(info, pi)
				}
			} else if err := json.Unmarshal([]byte(out), &info); err != nil || len(info) != 1 {
				n.Fatalf(t, "path-info (a list before Nix 2.19): %s %v", out, err)
			}
			h, err := NormalizeNarHash(info[0].NarHash)
			if err != nil || h != ni.NarHash || info[0].NarSize != ni.NarSize {
				t.Fatalf("path-info %s (%s) %d, narinfo %s %d, %v", info[0].NarHash, h, info[0].NarSize, ni.NarHash, ni.NarSize, err)
			}
			fp, err := NarFingerprint(info[0].Path, h, info[0].NarSize, info[0].References)
			nfp, _ := ni.Fingerprint()
			if err != nil || fp != nfp {
				t.Fatalf("fingerprint from path-info %q, from narinfo %q, %v", fp, nfp, err)
			}
		})

		t.Run("nix_signs_keyform_verifies", func(t *testing.T) {
			ok, err := nixPub.VerifyNarinfo(ni)
			if err != nil || !ok {
				t.Fatalf("VerifyNarinfo(nix key) = %v, %v", ok, err)
			}
			sameName := mustGenerate(t, nixPub.Name, 7).Public()
			if ok, err := sameName.VerifyNarinfo(ni); ok || err != nil {
				t.Fatalf("VerifyNarinfo(other key, same name) = %v, %v", ok, err)
			}
			otherName := &PublicKey{Name: "someone-else", Key: nixPub.Key}
			if ok, _ := otherName.VerifyNarinfo(ni); ok {
				t.Fatal("VerifyNarinfo accepted the right key bytes under another name")
			}
			// Ed25519 is deterministic: keyform signing with Nix's key
			// reproduces Nix's Sig: line byte for byte.
			sk, err := ParseSecretKey(nixSecretText)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := sk.SignNarinfo(ni)
			if err != nil || !slices.Contains(ni.Sigs, sig.String()) {
				t.Fatalf("keyform signature %q not among nix's %q (%v)", sig, ni.Sigs, err)
			}
		})

		t.Run("keyform_signs_nix_verifies", func(t *testing.T) {
			ours, err := Generate("keyform-interop-1", rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := ours.SignNarinfo(ni)
			if err != nil {
				t.Fatal(err)
			}
			// A copy of the cache whose narinfo carries only our signature.
			mkCache := func(name string, narinfo []byte) string {
				c := filepath.Join(dir, name)
				if err := os.CopyFS(c, os.DirFS(cache)); err != nil {
					t.Fatal(err)
				}
				base := filepath.Base(path)
				if err := os.WriteFile(filepath.Join(c, base[:storeHashLen]+".narinfo"), narinfo, 0o644); err != nil {
					t.Fatal(err)
				}
				return "file://" + c
			}
			verify := func(store string, trusted ...string) int {
				_, code, stderr := nixCode(t, n, nil, "store", "verify", "--store", store,
					"--trusted-public-keys", strings.Join(trusted, " "), path)
				t.Logf("exit %d: %s", code, strings.TrimSpace(stderr))
				return code
			}
			good := mkCache("cache-keyform", withSigs(text, sig.String()))
			if code := verify(good, ours.Public().String()); code != 0 {
				t.Fatalf("nix store verify with our key exited %d, want 0", code)
			}
			// Also among other trusted keys, in either order.
			if code := verify(good, nixPubText, ours.Public().String()); code != 0 {
				t.Fatalf("nix store verify with two trusted keys exited %d, want 0", code)
			}
			// A trusted key that did not sign: untrusted (bit 2).
			if code := verify(good, nixPubText); code != 2 {
				t.Fatalf("nix store verify with another trusted key exited %d, want 2 (untrusted)", code)
			}
			// Same name, different key bytes: untrusted.
			impostor := mustGenerate(t, ours.Name, 9).Public()
			if code := verify(good, impostor.String()); code != 2 {
				t.Fatalf("nix store verify with a same-named other key exited %d, want 2", code)
			}
			// A signature over a wrong fingerprint (NarSize off by one) is
			// rejected: Nix signs exactly the fingerprint keyform builds.
			wrong := *ni
			wrong.NarSize++
			badSig, err := ours.SignNarinfo(&wrong)
			if err != nil {
				t.Fatal(err)
			}
			bad := mkCache("cache-badsig", withSigs(text, badSig.String()))
			if code := verify(bad, ours.Public().String()); code != 2 {
				t.Fatalf("nix store verify of a signature over a wrong fingerprint exited %d, want 2", code)
			}
			// And keyform agrees with Nix on both caches.
			for _, c := range []struct {
				store string
				want  bool
			}{{good, true}, {bad, false}} {
				got, err := ParseNarinfo(readNarinfo(t, strings.TrimPrefix(c.store, "file://"), path))
				if err != nil {
					t.Fatal(err)
				}
				if ok, err := ours.Public().VerifyNarinfo(got); ok != c.want || err != nil {
					t.Fatalf("keyform VerifyNarinfo on %s = %v, %v; want %v", c.store, ok, err, c.want)
				}
			}
		})
	})
}
