package schema

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/keyform/keyform/internal/memfs"
)

const recipientPolicy = `catalog "acme" {}

key "acme_1" {
  name       = "cache.acme.example-1"
  catalog    = catalog.acme
  public_key = "cache.acme.example-1:P/59qpLfrE1QJ6WxGTtNupzEWJVrl+XwBAyN1d9wuxk="
}

target "nixos" "all" {
  trust = [catalog.acme]
}

publisher "ci" {
  keys       = [key.acme_1]
  recipients = [RECIPIENT]
}
`

func loadRecipient(recipient string, check func(string) error) *Result {
	src := strings.Replace(recipientPolicy, "RECIPIENT", recipient, 1)
	return LoadFS(memfs.FS{"keyform.hcl": []byte(src)}, ".", Options{Now: testNow, CheckRecipient: check})
}

// The type of a recipient is judged by Options.CheckRecipient (the keyform
// command passes seal's parser); its text by schema itself, with or
// without one.
func TestCheckRecipient(t *testing.T) {
	// Only the checker knows this is no public key.
	res := loadRecipient(`"alice@example.com"`, nil)
	if res.HasErrors() || res.Policy.Publisher("ci").Recipients[0] != "alice@example.com" {
		t.Fatalf("without a checker the recipient's type is not judged; got %v", res.Diags)
	}

	var asked []string
	res = loadRecipient(`"alice@example.com"`, func(s string) error {
		asked = append(asked, s)
		return errors.New("not a public key")
	})
	if len(asked) != 1 || asked[0] != "alice@example.com" {
		t.Errorf("checker asked about %q, want the recipient once", asked)
	}
	if len(res.Diags) != 1 || res.Diags[0].Summary != "Invalid recipient" || res.Diags[0].Detail != `Publisher "ci": not a public key.` {
		t.Fatalf("diagnostics = %v, want the checker's error as an Invalid recipient", res.Diags)
	}
	if r := res.Diags[0].Subject; r == nil || r.Start.Line != 15 || r.Start.Column != 17 {
		t.Errorf("subject = %v, want the list element at 15,17", r)
	}

	// Text that can never be a recipient is refused without asking.
	secret := `"AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"`
	for recipient, want := range map[string]string{`""`: "empty", `" age1qqqq"`: "whitespace", secret: "private key"} {
		for _, check := range []func(string) error{nil, func(string) error { t.Errorf("checker asked about %s", recipient); return nil }} {
			res := loadRecipient(recipient, check)
			if !res.HasErrors() || !strings.Contains(res.Diags[0].Detail, want) {
				t.Errorf("recipient %s: %v, want an error about %s", recipient, res.Diags, want)
			}
		}
	}
	var out strings.Builder
	loadRecipient(secret, nil).WriteDiagnostics(&out, 0, false)
	if strings.Contains(out.String(), "AGE-SECRET-KEY-1QQQ") {
		t.Errorf("diagnostics print the secret:\n%s", out.String())
	}
}

// Loading a policy must not link the age library: only commands that seal
// or unseal need it, and they pass seal's parser as CheckRecipient.
func TestNoAgeDependency(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not installed")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "filippo.io/age") || dep == "github.com/keyform/keyform/seal" {
			t.Errorf("schema depends on %s", dep)
		}
	}
}
