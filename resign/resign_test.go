package resign

import (
	"bytes"
	"context"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/internal/cachegen"
	"github.com/keyform/keyform/keys"
)

func genKey(t testing.TB, name string, seed byte) *keys.SecretKey {
	t.Helper()
	var s [32]byte
	s[0] = seed
	sk, err := keys.Generate(name, mrand.NewChaCha8(s))
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func TestAddSig(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"after_last_sig", "StorePath: x\nSig: a:1\nSig: b:2\nCA: y\n", "StorePath: x\nSig: a:1\nSig: b:2\nSig: n:9\nCA: y\n"},
		{"before_ca", "StorePath: x\nDeriver: d\nCA: y\n", "StorePath: x\nDeriver: d\nSig: n:9\nCA: y\n"},
		{"at_end", "StorePath: x\nDeriver: d\n", "StorePath: x\nDeriver: d\nSig: n:9\n"},
		{"no_final_newline", "StorePath: x\nDeriver: d", "StorePath: x\nDeriver: d\nSig: n:9\n"},
		{"last_sig_no_newline", "StorePath: x\nSig: a:1", "StorePath: x\nSig: a:1\nSig: n:9\n"},
		{"ca_first", "CA: y\nStorePath: x\n", "Sig: n:9\nCA: y\nStorePath: x\n"},
		{"unknown_fields_kept", "X-Odd:  two spaces \nStorePath: x\n", "X-Odd:  two spaces \nStorePath: x\nSig: n:9\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := string(AddSig([]byte(c.in), "n:9")); got != c.want {
				t.Fatalf("AddSig =\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}

// removeSigLine returns text without the line "Sig: sig\n".
func removeSigLine(text []byte, sig string) []byte {
	return bytes.Replace(text, []byte("Sig: "+sig+"\n"), nil, 1)
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	old, nw := genKey(t, "acme-1", 1), genKey(t, "acme-2", 2)
	oldOnly, _ := cachegen.Generate(dir, cachegen.Options{Paths: 40, Signers: []*keys.SecretKey{old}, Seed: 1})
	both, _ := cachegen.Generate(dir, cachegen.Options{Paths: 10, Signers: []*keys.SecretKey{old, nw}, Seed: 2})
	none, _ := cachegen.Generate(dir, cachegen.Options{Paths: 5, Seed: 3})
	os.WriteFile(filepath.Join(dir, strings.Repeat("0", 32)+".narinfo"), []byte("garbage\n"), 0o644)
	os.Chmod(filepath.Join(dir, oldOnly[0].Hash+".narinfo"), 0o640)
	before := map[string][]byte{}
	for _, ps := range [][]cachegen.Path{oldOnly, both, none} {
		for _, p := range ps {
			before[p.Hash], _ = os.ReadFile(filepath.Join(dir, p.Hash+".narinfo"))
		}
	}
	s, err := binarycache.OpenFile(dir, binarycache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	dry, err := File(ctx, s, Options{Key: nw, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Signed != 45 || dry.AlreadySigned != 10 || dry.Malformed != 1 || !dry.DryRun {
		t.Fatalf("dry run %+v", dry)
	}
	for h, text := range before {
		if now, _ := os.ReadFile(filepath.Join(dir, h+".narinfo")); !bytes.Equal(now, text) {
			t.Fatal("dry run changed a narinfo")
		}
	}

	res, err := File(ctx, s, Options{Key: nw, Jobs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Paths != 56 || res.Signed != 45 || res.AlreadySigned != 10 || res.Malformed != 1 ||
		len(res.MalformedExamples) != 1 || !strings.Contains(res.MalformedExamples[0].Problem, "narinfo line 1") {
		t.Fatalf("result %+v", res)
	}
	pub := nw.Public()
	for h, was := range before {
		now, _ := os.ReadFile(filepath.Join(dir, h+".narinfo"))
		n, err := keys.ParseNarinfo(now)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := pub.VerifyNarinfo(n); !ok || err != nil {
			t.Fatalf("%s has no valid acme-2 signature after resign", h)
		}
		sig, _ := nw.SignNarinfo(n)
		if !bytes.Equal(removeSigLine(now, sig.String()), was) && !bytes.Equal(now, was) {
			t.Fatalf("resign changed more than the new Sig line:\n%s\nwas\n%s", now, was)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, oldOnly[0].Hash+".narinfo")); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want the old 0640", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}

	again, err := File(ctx, s, Options{Key: nw})
	if err != nil {
		t.Fatal(err)
	}
	if again.Signed != 0 || again.AlreadySigned != 55 {
		t.Fatalf("second run %+v, want nothing signed", again)
	}
}

// A narinfo whose signature under the key's name is invalid keeps it and
// gains a valid one.
func TestFileKeepsInvalidSignature(t *testing.T) {
	dir := t.TempDir()
	nw, impostor := genKey(t, "acme-2", 2), genKey(t, "acme-2", 9)
	ps, _ := cachegen.Generate(dir, cachegen.Options{Paths: 1, Signers: []*keys.SecretKey{impostor}, Seed: 1})
	file := filepath.Join(dir, ps[0].Hash+".narinfo")
	was, _ := os.ReadFile(file)
	s, _ := binarycache.OpenFile(dir, binarycache.Options{})
	res, err := File(context.Background(), s, Options{Key: nw})
	if err != nil || res.Signed != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	now, _ := os.ReadFile(file)
	if !bytes.HasPrefix(now, was) || bytes.Count(now, []byte("Sig: acme-2:")) != 2 {
		t.Fatalf("narinfo after resign:\n%s", now)
	}
}

func TestCheckKey(t *testing.T) {
	nw, other := genKey(t, "acme-2", 2), genKey(t, "acme-2", 3)
	if err := CheckKey(nw, nw.Public().String()); err != nil {
		t.Fatal(err)
	}
	err := CheckKey(other, nw.Public().String())
	if err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Fatalf("err = %v", err)
	}
	secret := string(other.Encode())
	_, b64, _ := strings.Cut(secret, ":")
	if strings.Contains(err.Error(), b64[:20]) {
		t.Fatal("error shows the secret key")
	}
}

func TestCommand(t *testing.T) {
	for _, c := range []struct{ url, key, paths, want string }{
		{"s3://bucket?region=eu-west-1", "/keys/acme-2.sk", "",
			"nix --extra-experimental-features nix-command store sign --store 's3://bucket?region=eu-west-1' --key-file /keys/acme-2.sk --all"},
		{"s3://bucket?secret-key=/k/secret.key&endpoint=minio.example:9000&region=x", "/keys/acme-2.sk", "",
			"nix --extra-experimental-features nix-command store sign --store 's3://bucket?endpoint=minio.example%3A9000&region=x' --key-file /keys/acme-2.sk --all"},
		{"https://user:pw@cache.example.org/", "/k/my key", "paths.txt",
			"xargs -r nix --extra-experimental-features nix-command store sign --store https://cache.example.org/ --key-file '/k/my key' < paths.txt"},
		{"https://cache.example.org", "k'q", "-",
			`xargs -r nix --extra-experimental-features nix-command store sign --store https://cache.example.org --key-file 'k'\''q'`},
	} {
		if got := Command(c.url, c.key, c.paths); got != c.want {
			t.Errorf("Command(%q) =\n%s\nwant\n%s", c.url, got, c.want)
		}
	}
}
