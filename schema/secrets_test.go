package schema

import (
	"bytes"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/memfs"
	"github.com/keyform/keyform/keys"
)

const secretPolicy = `catalog "acme" {
  substituter = "https://cache.acme.example"
}

key "acme_1" {
  name    = "cache.acme.example-1"
  catalog = catalog.acme
  PUBLIC
}

target "nixos" "all" {
  trust = [catalog.acme]
}
`

// leak returns a 16-character run of secret that out shows, or "".
func leak(out, secret string) string {
	secret = strings.TrimRight(secret, "=")
	for i := 0; i+16 <= len(secret); i++ {
		if strings.Contains(out, secret[i:i+16]) {
			return secret[i : i+16]
		}
	}
	return ""
}

// Every way a secret key can be pasted into a policy is reported once, as
// a secret, at its file and line, and no diagnostic (snippets included)
// and no fmt output shows any 16-character run of it.
func TestSecretsNeverPrinted(t *testing.T) {
	sk, err := keys.Generate("cache.acme.example-1", mrand.NewChaCha8([32]byte{42}))
	if err != nil {
		t.Fatal(err)
	}
	text := string(sk.Encode())
	name, s, _ := strings.Cut(text, ":")
	const password = "Tr0ub4dor-and-3-more-words"
	type tc struct {
		name   string
		public string            // replaces PUBLIC in keyform.hcl
		files  map[string]string // more files
		secret string            // what must not show; s by default
		// summary of the one error about the secret, and where it points.
		summary string
		file    string
		line    int
	}
	for _, c := range []tc{
		{name: "inline", public: `public_key = "` + text + `"`, summary: "Secret key in policy file", file: "keyform.hcl", line: 8},
		{name: "inline truncated to 44", public: `public_key = "` + name + ":" + s[:44] + `"`, secret: s[:44], summary: "Truncated secret key in policy file", file: "keyform.hcl", line: 8},
		{name: "inline truncated to 64", public: `public_key = "` + name + ":" + s[:64] + `"`, secret: s[:64], summary: "Truncated secret key in policy file", file: "keyform.hcl", line: 8},
		{name: "inline without name", public: `public_key = "` + s + `"`, summary: "Secret key in policy file", file: "keyform.hcl", line: 8},
		{name: "inline truncated without name", public: `public_key = "` + s[:60] + `"`, secret: s[:60], summary: "Truncated secret key where a public key belongs", file: "keyform.hcl", line: 8},
		{name: "multi-line string", public: `public_key = "` + name + ":" + s[:30] + "\n" + s[30:] + `"`, summary: "Secret key in policy file", file: "keyform.hcl", line: 8},
		{name: "multi-line string, indented", public: `public_key = "` + name + ":" + s[:50] + "\n      " + s[50:] + `"`, summary: "Secret key in policy file", file: "keyform.hcl", line: 8},
		{name: "escaped line break", public: `public_key = "` + name + ":" + s[:10] + `\n` + s[10:] + `"`, summary: "Secret key in policy file", file: "keyform.hcl", line: 8},
		{name: "heredoc split", public: "public_key = <<EOT\n" + name + ":" + s[:30] + "\n" + s[30:] + "\nEOT", summary: "Secret key where a public key belongs", file: "keyform.hcl", line: 8},
		{name: "syntax error", public: `public_key = ` + text, summary: "Secret key in policy file", file: "keyform.hcl", line: 8},
		{name: "syntax error, truncated", public: `public_key = "` + name + ":" + s[:70] + ` {{`, secret: s[:70], summary: "Truncated secret key in policy file", file: "keyform.hcl", line: 8},
		{name: "comment", public: "public_key = \"cache.acme.example-1:ahIJtQ2D/uc93ZhAyExtjptBtp7i5Io2P1gRxfnblbk=\" # was " + text, summary: "Secret key in policy file", file: "keyform.hcl", line: 8},
		{name: "other file", public: `public_key = "cache.acme.example-1:ahIJtQ2D/uc93ZhAyExtjptBtp7i5Io2P1gRxfnblbk="`, files: map[string]string{"notes.hcl": "\n\n# " + text + "\n"}, summary: "Secret key in policy file", file: "notes.hcl", line: 3},
		{name: "pub file", public: `public_key_file = "keys/acme.pub"`, files: map[string]string{"keys/acme.pub": text + "\n"}, summary: "Secret key where a public key belongs", file: "keyform.hcl", line: 8},
		{name: "pub file truncated", public: `public_key_file = "keys/acme.pub"`, files: map[string]string{"keys/acme.pub": name + ":" + s[:50]}, secret: s[:50], summary: "Truncated secret key where a public key belongs", file: "keyform.hcl", line: 8},
		{name: "pub file wrapped", public: `public_key_file = "keys/acme.pub"`, files: map[string]string{"keys/acme.pub": name + ":" + s[:40] + "\n" + s[40:] + "\n"}, summary: "Secret key where a public key belongs", file: "keyform.hcl", line: 8},
		{name: "pub file, second line", public: `public_key_file = "keys/acme.pub"`, files: map[string]string{"keys/acme.pub": "# acme\n" + text}, summary: "Secret key where a public key belongs", file: "keyform.hcl", line: 8},
		{name: "substituter password", public: `public_key = "cache.acme.example-1:ahIJtQ2D/uc93ZhAyExtjptBtp7i5Io2P1gRxfnblbk="`,
			files:   map[string]string{"more.hcl": "catalog \"private\" {\n  substituter = \"https://alice:" + password + "@cache.example.org\"\n}\n"},
			secret:  password,
			summary: "Credentials in policy file", file: "more.hcl", line: 2},
		{name: "substituter password, escaped @", public: `public_key = "cache.acme.example-1:ahIJtQ2D/uc93ZhAyExtjptBtp7i5Io2P1gRxfnblbk="`,
			files:   map[string]string{"more.hcl": "catalog \"private\" {\n  substituter = \"https://alice:" + password + "\\u0040cache.example.org\"\n}\n"},
			secret:  password,
			summary: "Credentials in a substituter URL", file: "more.hcl", line: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			secret := c.secret
			if secret == "" {
				secret = s
			}
			fsys := memfs.FS{"keyform.hcl": []byte(strings.Replace(secretPolicy, "PUBLIC", c.public, 1))}
			for n, data := range c.files {
				fsys[n] = []byte(data)
			}
			res := LoadFS(fsys, ".", Options{Now: testNow})
			var out bytes.Buffer
			if err := res.WriteDiagnostics(&out, 0, false); err != nil {
				t.Fatal(err)
			}
			if !res.HasErrors() {
				t.Fatalf("loaded without errors:\n%s", out.String())
			}
			if l := leak(out.String(), secret); l != "" {
				t.Fatalf("diagnostics show %q:\n%s", l, out.String())
			}
			var found int
			for _, d := range res.Diags {
				if strings.Contains(d.Summary, "ecret key") || strings.Contains(d.Summary, "redentials") {
					found++
					if d.Summary != c.summary || d.Subject == nil || d.Subject.Filename != c.file || d.Subject.Start.Line != c.line {
						t.Errorf("got %q at %v, want %q at %s:%d", d.Summary, d.Subject, c.summary, c.file, c.line)
					}
				}
			}
			if found != 1 {
				t.Errorf("%d errors about the secret, want exactly 1:\n%s", found, out.String())
			}
			if !strings.Contains(out.String(), "does not print") || !(strings.Contains(out.String(), "keyform pubkey") || strings.Contains(out.String(), "netrc-file")) {
				t.Errorf("the error does not say how to fix it:\n%s", out.String())
			}

			// fmt must refuse a file holding the secret, without showing it.
			for n, data := range fsys {
				if !strings.HasSuffix(n, ".hcl") {
					continue
				}
				formatted, fres := Format(data, n)
				if !strings.Contains(string(data), secret) {
					continue
				}
				if formatted != nil || fres == nil || !fres.HasErrors() {
					t.Errorf("Format(%s) formatted a file holding the secret", n)
					continue
				}
				var fout bytes.Buffer
				fres.WriteDiagnostics(&fout, 0, false)
				if l := leak(fout.String(), secret); l != "" {
					t.Errorf("Format(%s) diagnostics show %q:\n%s", n, l, fout.String())
				}
				if !bytes.Contains(data, []byte(secret)) {
					t.Errorf("Format changed its input")
				}
			}
		})
	}
}
