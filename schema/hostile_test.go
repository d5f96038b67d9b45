package schema

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/memfs"
)

const pubFilePolicy = `catalog "acme" {}

key "acme_1" {
  name            = "cache.acme.example-1"
  catalog         = catalog.acme
  public_key_file = "keys/acme.pub"
}

target "nixos" "all" {
  trust = [catalog.acme]
}
`

// loadQuickly loads dir and fails the test if that hangs: hanging is the
// bug a named pipe or /dev/zero used to cause.
func loadQuickly(t *testing.T, dir string) (*Result, string) {
	t.Helper()
	done := make(chan *Result, 1)
	start := time.Now()
	go func() { done <- Load(dir, Options{Now: testNow}) }()
	select {
	case res := <-done:
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("loading took %v", d)
		}
		var out bytes.Buffer
		res.WriteDiagnostics(&out, 0, false)
		return res, strings.ReplaceAll(out.String(), dir, "$DIR")
	case <-time.After(10 * time.Second):
		t.Fatal("loading the policy hangs")
		return nil, ""
	}
}

// Files a pull request could plant to hang or exhaust CI are refused, with
// an error naming the file and the rule: pipes and devices as public key
// files or policy files, and files over the size limits.
func TestHostileFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes or /dev/zero")
	}
	policyDir := func(t *testing.T) string {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "keyform.hcl"), []byte(pubFilePolicy), 0o644)
		os.Mkdir(filepath.Join(dir, "keys"), 0o755)
		return dir
	}
	for _, c := range []struct {
		name  string
		plant func(t *testing.T, dir string)
		want  []string
	}{
		{"public key file is a named pipe", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "keys/acme.pub"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"$DIR/keyform.hcl:6:21: Error: Cannot read public key file", "keys/acme.pub is a named pipe, not a regular file"}},
		{"public key file is /dev/zero", func(t *testing.T, dir string) {
			os.Symlink("/dev/zero", filepath.Join(dir, "keys/acme.pub"))
		}, []string{"Cannot read public key file", "keys/acme.pub is a character device, not a regular file"}},
		{"public key file too large", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "keys/acme.pub"), bytes.Repeat([]byte("#\n"), 40<<10), 0o644)
		}, []string{"Cannot read public key file", "keys/acme.pub is 80 KiB, larger than 64 KiB, the limit for a public key file"}},
		{"policy file is a named pipe", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe.hcl"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"Error: Cannot read policy file", "$DIR/pipe.hcl is a named pipe, not a regular file"}},
		{"policy file is /dev/zero", func(t *testing.T, dir string) {
			os.Symlink("/dev/zero", filepath.Join(dir, "zero.hcl"))
		}, []string{"Cannot read policy file", "$DIR/zero.hcl is a character device"}},
		{"policy file of 200 MB", func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, "huge.hcl"))
			if err != nil {
				t.Fatal(err)
			}
			f.Truncate(200 << 20) // sparse: costs no disk
			f.Close()
		}, []string{"Cannot read policy file", "$DIR/huge.hcl is 200 MiB, larger than 4 MiB, the limit for a policy file"}},
		{"directory named .hcl", func(t *testing.T, dir string) {
			os.Mkdir(filepath.Join(dir, "dir.hcl"), 0o755)
		}, []string{"$DIR/dir.hcl is a directory, not a regular file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := policyDir(t)
			c.plant(t, dir)
			res, out := loadQuickly(t, dir)
			if !res.HasErrors() {
				t.Fatalf("loaded:\n%s", out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, out)
				}
			}
		})
	}
}

// All policy files together are capped too.
func TestPolicyTooLarge(t *testing.T) {
	fsys := memfs.FS{}
	chunk := bytes.Repeat([]byte("# padding to make a large file\n"), MaxPolicyFileSize/32)
	for i := range MaxPolicySize/len(chunk) + 1 {
		fsys[string(rune('a'+i))+".hcl"] = chunk
	}
	res := LoadFS(fsys, "policy", Options{Now: testNow})
	if !res.HasErrors() || !strings.Contains(res.Diags.Error(), "add up to more than 32 MiB") {
		t.Fatalf("diagnostics: %v", res.Diags)
	}
}

func TestTargetPathWithSpace(t *testing.T) {
	src := `catalog "acme" {}

key "acme_1" {
  name       = "cache.acme.example-1"
  catalog    = catalog.acme
  public_key = "cache.acme.example-1:lpfqH+fcLGmdsVTRcsBOIBL6SE+8KYxUuK80GbyfIIQ="
}

target "nixconf" "laptops" {
  trust = [catalog.acme]
  path  = "PATH"
}
`
	for path, want := range map[string]string{
		"/Library/Application Support/nix/nix.conf": "",
		"/etc/nix/nix conf/../nix.conf":             "",
		"/etc/nix/nix\\tconf":                       "contains whitespace",
		"/etc/nix/$HOME.conf":                       "contains '$'",
	} {
		res := LoadFS(memfs.FS{"keyform.hcl": []byte(strings.Replace(src, "PATH", path, 1))}, ".", Options{Now: testNow})
		switch {
		case want == "" && res.HasErrors():
			t.Errorf("path %q refused: %v", path, res.Diags)
		case want == "" && res.Policy.Target("nixconf.laptops").Path != filepath.Clean(path):
			t.Errorf("path %q read as %q", path, res.Policy.Target("nixconf.laptops").Path)
		case want != "" && (!res.HasErrors() || !strings.Contains(res.Diags.Error(), want)):
			t.Errorf("path %q: %v, want an error saying %q", path, res.Diags, want)
		}
	}
}

// Credentials in a substituter URL are refused and never printed; a user
// name in an ssh URL is an account, not a secret.
func TestSubstituterCredentials(t *testing.T) {
	src := `catalog "acme" {
  substituter = "URL"
}
`
	for url, refused := range map[string]bool{
		"https://alice:hunter2-hunter2@cache.example.org":     true,
		"https://ghp_token0123456789@cache.example.org":       true,
		"s3://KEYID:SECRET0123456789@bucket":                  true,
		"ssh://builder:pa55word-pa55word@host.example.org":    true,
		"ssh://nix-ssh@host.example.org":                      false,
		"ssh-ng://builder@10.0.0.1":                           false,
		"https://cache.example.org/path@with-at-in-the-path/": false,
	} {
		res := LoadFS(memfs.FS{"keyform.hcl": []byte(strings.Replace(src, "URL", url, 1))}, ".", Options{Now: testNow})
		var out bytes.Buffer
		res.WriteDiagnostics(&out, 0, false)
		gotRefused := strings.Contains(out.String(), "Credentials in")
		if gotRefused != refused {
			t.Errorf("%s: refused %v, want %v:\n%s", url, gotRefused, refused, out.String())
		}
		if refused {
			secret := url[strings.Index(url, "//")+2 : strings.LastIndex(url, "@")]
			if strings.Contains(out.String(), secret) || !strings.Contains(out.String(), "netrc-file") {
				t.Errorf("%s: the error shows the credentials or lacks the netrc-file hint:\n%s", url, out.String())
			}
		}
	}
}
