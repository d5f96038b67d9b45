package nixconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/nixtest"
)

// TestNixKeyProblemRealNix checks NixKeyProblem against Nix itself: a path
// signed with a fresh key (made by nix at test time) in a throwaway store
// verifies when trusted-public-keys holds the key and a variant that Nix
// can parse, and fails ("public key is not valid" / "secret key is
// corrupt") when the variant is one NixKeyProblem rejects.
func TestNixKeyProblemRealNix(t *testing.T) {
	nixtest.Each(t, func(t *testing.T, n *nixtest.Nix) { nixKeyProblemRealNix(t, n) })
}

func nixKeyProblemRealNix(t *testing.T, n *nixtest.Nix) {
	dir := t.TempDir()
	nix := func(stdin string, args ...string) (string, error) {
		cmd := n.Command("nix", append([]string{"--extra-experimental-features", "nix-command"}, args...)...)
		cmd.Env = append(cmd.Env, nixtest.IsolatedEnv(dir)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	must := func(out string, err error) string {
		t.Helper()
		if err != nil {
			n.Fatalf(t, "%v: %s", err, out)
		}
		return out
	}
	sk := must(nix("", "key", "generate-secret", "--key-name", "t-1"))
	pk := must(nix(sk, "key", "convert-secret-to-public"))
	skFile := filepath.Join(dir, "sk")
	if err := os.WriteFile(skFile, []byte(sk), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "f.txt")
	os.WriteFile(data, []byte("hello\n"), 0o644)
	store := "local?root=" + filepath.Join(dir, "store")
	path := must(nix("", "store", "add-file", "--store", store, data))
	must(nix("", "store", "sign", "--store", store, "--key-file", skFile, path))

	b64 := strings.TrimPrefix(pk, "t-1:")
	for _, v := range []string{
		"v-1:" + b64,                            // as printed
		"v-1:" + strings.TrimSuffix(b64, "="),   // no padding
		"v-1:" + b64 + "junk",                   // after '=' is ignored
		"v-1:" + b64[:42] + "=",                 // 31 bytes
		"v-1:" + b64[:43] + "A",                 // 33 bytes
		"v-1:" + b64[:10] + "-" + b64[11:],      // not base64
		"v-1",                                   // no colon
		"v-1:",                                  // no key
		":" + b64,                               // no name
		"n!äme:" + strings.TrimSuffix(b64, "="), // odd name: Nix does not care
	} {
		// With the real key trusted too, the path verifies exactly when
		// Nix can parse the variant.
		out, err := nix("", "store", "verify", "--store", store, "--no-contents", "--option", "trusted-public-keys", v+" "+pk, path)
		if nixOK, ours := err == nil, NixKeyProblem(v) == ""; nixOK != ours {
			n.Errorf(t, "%q: nix verify ok=%v (%s), NixKeyProblem ok=%v (%s)", v, nixOK, out, ours, NixKeyProblem(v))
		}
	}
}
