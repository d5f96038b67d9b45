package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/keyform/keyform/internal/gitfs"
	"github.com/keyform/keyform/internal/golden"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/seal"
)

var testNow = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// checkRecipient is the Options.CheckRecipient the keyform command passes,
// so the vectors show the recipient errors users see.
func checkRecipient(s string) error {
	_, err := seal.ParseRecipient(s)
	return err
}

// TestVectors walks testdata/*.txtar. Each archive is a policy directory
// plus golden sections: "diagnostics" (what validate prints) and, for
// policies that load, "resolved" (what each target trusts). Names say the
// expected outcome: good_* load, fail_* do not.
func TestVectors(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			want := map[string]string{}
			for _, f := range ar.Files {
				switch f.Name {
				case "diagnostics", "resolved":
					want[f.Name] = string(f.Data)
					continue
				}
				data := bytes.ReplaceAll(f.Data, []byte("$DIR"), []byte(dir))
				p := filepath.Join(dir, f.Name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res := LoadFS(os.DirFS(dir), ".", Options{Now: testNow, AbsDir: dir, WorkTree: gitfs.FindWorkTree(dir), CheckRecipient: checkRecipient})
			var diags bytes.Buffer
			if err := res.WriteDiagnostics(&diags, 0, false); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{"diagnostics": strings.ReplaceAll(diags.String(), dir, "$DIR")}
			if res.Policy != nil {
				got["resolved"] = dumpResolved(res.Policy)
			}
			switch {
			case strings.HasPrefix(name, "good_") && res.HasErrors():
				t.Errorf("good vector has errors:\n%s", got["diagnostics"])
			case strings.HasPrefix(name, "fail_") && !res.HasErrors():
				t.Errorf("fail vector loaded without errors")
			}
			changed := false
			for _, section := range []string{"diagnostics", "resolved"} {
				if got[section] == want[section] {
					continue
				}
				if *golden.Update {
					setSection(ar, section, got[section])
					changed = true
					continue
				}
				t.Errorf("%s differs (go test ./schema -update rewrites it)\n--- got\n%s--- want\n%s", section, got[section], want[section])
			}
			if changed {
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func setSection(ar *txtar.Archive, name, data string) {
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			if data == "" {
				ar.Files = append(ar.Files[:i], ar.Files[i+1:]...)
			} else {
				ar.Files[i].Data = []byte(data)
			}
			return
		}
	}
	if data != "" {
		ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(data)})
	}
}

// dumpResolved prints what matters of a resolved policy in a stable form.
func dumpResolved(p *policy.Policy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "settings output_dir=%s expiry_warning_days=%d sealed_dir=%s\n", p.Settings.OutputDir, p.Settings.ExpiryWarningDays, p.Settings.SealedDir)
	for _, c := range p.Catalogs {
		fmt.Fprintf(&b, "catalog %s substituters=%v\n", c.Label, c.Substituters)
	}
	for _, k := range p.Keys {
		exp := "-"
		if !k.Expires.IsZero() {
			exp = k.Expires.Format(time.DateOnly)
		}
		fmt.Fprintf(&b, "key %s name=%s catalog=%s state=%s expires=%s file=%s private=%s\n  %s %s\n",
			k.Label, k.Name, k.Catalog, k.State, exp, k.PublicKeyFile, k.PrivateKeyPath, k.PublicKey, k.Fingerprint)
	}
	for _, t := range p.Targets {
		fmt.Fprintf(&b, "target %s exclusive=%v output=%s path=%s trust=%v\n", t.ID(), t.Exclusive, t.Output, t.Path, t.Trust)
		for _, k := range t.Keys {
			fmt.Fprintf(&b, "  trusts %s (%s)\n", k.Name, k.Label)
		}
		for _, k := range t.Retired {
			fmt.Fprintf(&b, "  distrusts %s (%s)\n", k.Name, k.Label)
		}
		for _, s := range t.Substituters {
			fmt.Fprintf(&b, "  substituter %s\n", s)
		}
	}
	for _, pub := range p.Publishers {
		dir := ""
		if pub.PrivateKeyDir != "" {
			dir = " dir=" + pub.PrivateKeyDir
		}
		fmt.Fprintf(&b, "publisher %s keys=%v recipients=%d flox=%v private=%s%s\n", pub.Label, pub.Keys, len(pub.Recipients), pub.Flox, pub.PrivateKeyPath, dir)
		if pub.DefaultKey != "" {
			fmt.Fprintf(&b, "  default key %s\n", pub.DefaultKey)
		}
		for _, r := range pub.Recipients {
			if len(r) > 40 {
				r = r[:30] + "..." + r[len(r)-6:]
			}
			fmt.Fprintf(&b, "  recipient %s\n", r)
		}
		for _, label := range pub.Keys {
			k := p.Key(label)
			fmt.Fprintf(&b, "  key %s path=%s sealed=%s\n", label, pub.KeyPath(k), k.SealedFile)
		}
	}
	return b.String()
}

// A secret key pasted into the policy must never be printed back, not even
// in a source snippet.
func TestSecretNeverEchoed(t *testing.T) {
	ar, err := txtar.ParseFile("testdata/fail_secret_key_pasted.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	for _, f := range ar.Files {
		if f.Name == "keys/in_file.pub" {
			_, secret, _ = strings.Cut(strings.TrimSpace(string(f.Data)), ":")
		}
	}
	if len(secret) != 88 {
		t.Fatalf("fixture secret has %d base64 characters, want 88", len(secret))
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		if f.Name == "diagnostics" {
			continue
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f.Name)), 0o755)
		os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644)
	}
	res := Load(dir, Options{Now: testNow})
	var out bytes.Buffer
	res.WriteDiagnostics(&out, 0, false)
	if !res.HasErrors() {
		t.Fatal("policy with pasted secret keys loaded")
	}
	for i := 0; i+8 <= len(secret); i++ {
		if strings.Contains(out.String(), secret[i:i+8]) {
			t.Fatalf("diagnostics echo part of the secret key (%q):\n%s", secret[i:i+8], out.String())
		}
	}
}

// An age secret key pasted as a recipient is redacted from snippets too.
func TestAgeSecretNeverEchoed(t *testing.T) {
	ar, err := txtar.ParseFile("testdata/fail_recipients.txtar")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		if f.Name != "diagnostics" {
			os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644)
		}
	}
	res := Load(dir, Options{Now: testNow})
	var out bytes.Buffer
	res.WriteDiagnostics(&out, 0, false)
	if !res.HasErrors() {
		t.Fatal("policy with a pasted age secret key loaded")
	}
	// The prefix may show (it says what was found); the key data must not.
	if strings.Contains(out.String(), "QQQQQQQQ") {
		t.Fatalf("diagnostics echo the pasted age secret key:\n%s", out.String())
	}
}
