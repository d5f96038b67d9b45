package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	mrand "math/rand/v2"

	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/internal/cachegen"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
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

func policyKey(label string, sk *keys.SecretKey, state policy.KeyState) *policy.Key {
	return &policy.Key{Label: label, Name: sk.Name, Catalog: "acme", PublicKey: sk.Public().String(), State: state}
}

// mixedCache is a cache with paths in every class, and the classes'
// expected sizes.
type mixedCache struct {
	dir                                 string
	oldKey, newKey, otherKey, impostor  *keys.SecretKey
	oldOnly, newOnly, both, none, other []cachegen.Path
	corrupt                             cachegen.Path // both, with new's signature corrupted
	forged                              cachegen.Path // old only plus a same-named impostor signature
}

func gen(t testing.TB, dir string, seed uint64, n int, signers ...*keys.SecretKey) []cachegen.Path {
	t.Helper()
	p, err := cachegen.Generate(dir, cachegen.Options{Paths: n, Signers: signers, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newMixedCache(t testing.TB) *mixedCache {
	t.Helper()
	c := &mixedCache{dir: t.TempDir()}
	c.oldKey = genKey(t, "acme-1", 1)
	c.newKey = genKey(t, "acme-2", 2)
	c.otherKey = genKey(t, "cache.nixos.org-1", 3)
	c.impostor = genKey(t, "acme-2", 4) // same name as newKey, other key
	c.oldOnly = gen(t, c.dir, 1, 30, c.oldKey)
	c.newOnly = gen(t, c.dir, 2, 20, c.newKey)
	c.both = gen(t, c.dir, 3, 25, c.oldKey, c.newKey)
	c.none = gen(t, c.dir, 4, 7)
	c.other = gen(t, c.dir, 5, 4, c.otherKey)
	// Corrupt new's signature on one "both" path: flip a byte of it.
	c.corrupt = c.both[0]
	file := filepath.Join(c.dir, c.corrupt.Hash+".narinfo")
	text, _ := os.ReadFile(file)
	i := bytes.Index(text, []byte("Sig: acme-2:")) + len("Sig: acme-2:")
	sig, _ := base64.StdEncoding.DecodeString(string(bytes.SplitN(text[i:], []byte("\n"), 2)[0]))
	sig[5] ^= 1
	text = append(text[:i:i], append([]byte(base64.StdEncoding.EncodeToString(sig)+"\n"), text[i+89:]...)...)
	os.WriteFile(file, text, 0o644)
	// An impostor's signature under acme-2's name on an old-only path.
	c.forged = c.oldOnly[0]
	file = filepath.Join(c.dir, c.forged.Hash+".narinfo")
	text, _ = os.ReadFile(file)
	n, err := keys.ParseNarinfo(text)
	if err != nil {
		t.Fatal(err)
	}
	fsig, _ := c.impostor.SignNarinfo(n)
	os.WriteFile(file, append(text, "Sig: "+fsig.String()+"\n"...), 0o644)
	return c
}

func (c *mixedCache) keys(oldState policy.KeyState) []*policy.Key {
	return []*policy.Key{
		policyKey("acme_2025", c.oldKey, oldState),
		policyKey("acme_2026", c.newKey, policy.Active),
	}
}

func run(t testing.TB, dir string, o Options) *Report {
	t.Helper()
	s, err := binarycache.OpenFile(dir, binarycache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Catalog == "" {
		o.Catalog = "acme"
	}
	r, err := Run(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func storePaths(ps []cachegen.Path) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.StorePath)
	}
	slices.Sort(out)
	return out
}

func TestRunClassifies(t *testing.T) {
	c := newMixedCache(t)
	total := int64(30 + 20 + 25 + 7 + 4)

	t.Run("old_retired", func(t *testing.T) {
		r := run(t, c.dir, Options{Keys: c.keys(policy.Retired), Examples: 100})
		// Covered: new only, both (the corrupt one still has old's...
		// but old is retired, so the corrupt path is retired-only).
		want := &Report{
			Catalog: "acme", Store: "file://" + c.dir,
			Paths: total, Covered: 20 + 24, RetiredOnly: 30 + 1, Unsigned: 7 + 4, Invalid: 2,
			Keys: map[string]*KeyReport{
				"acme-1": {Label: "acme_2025", State: "retired", Valid: 30 + 25, Stranded: []string{}},
				"acme-2": {Label: "acme_2026", State: "active", Valid: 20 + 24, Invalid: 2, WouldStrand: 44,
					Stranded: append(storePaths(c.newOnly), storePaths(c.both[1:])...)},
			},
			UnknownKeys: map[string]int64{"cache.nixos.org-1": 4},
		}
		slices.Sort(want.Keys["acme-2"].Stranded)
		want.Examples = Examples{
			Unsigned:    append(storePaths(c.none), storePaths(c.other)...),
			RetiredOnly: append(storePaths(c.oldOnly), c.corrupt.StorePath),
			Invalid: []Finding{
				{c.corrupt.StorePath, "signature by acme-2 does not verify"},
				{c.forged.StorePath, "signature by acme-2 does not verify"},
			},
			Malformed: []Finding{},
		}
		slices.Sort(want.Examples.Unsigned)
		slices.Sort(want.Examples.RetiredOnly)
		slices.SortFunc(want.Examples.Invalid, compareFindings)
		if !reflect.DeepEqual(r, want) {
			t.Fatalf("report\n%s\nwant\n%s", dumpJSON(r), dumpJSON(want))
		}
		if r.OK() || ExitCode([]*Report{r}) != 1 {
			t.Fatalf("OK = %v, exit %d; want false, 1", r.OK(), ExitCode([]*Report{r}))
		}
	})

	t.Run("both_active", func(t *testing.T) {
		r := run(t, c.dir, Options{Keys: c.keys(policy.Active)})
		if r.Covered != 30+20+25 || r.RetiredOnly != 0 || r.Unsigned != 11 || r.Invalid != 2 {
			t.Fatalf("counts %+v", r)
		}
		// Paths signed by both keys strand nothing; the corrupt one
		// relies on old alone.
		if got := r.Keys["acme-1"].WouldStrand; got != 30+1 {
			t.Fatalf("acme-1 would strand %d, want 31", got)
		}
		if got := r.Keys["acme-2"].WouldStrand; got != 20 {
			t.Fatalf("acme-2 would strand %d, want 20", got)
		}
		if n := len(r.Keys["acme-1"].Stranded); n != DefaultExamples {
			t.Fatalf("%d stranded examples, want %d", n, DefaultExamples)
		}
	})

	t.Run("deterministic", func(t *testing.T) {
		a := run(t, c.dir, Options{Keys: c.keys(policy.Retired), Jobs: 1})
		b := run(t, c.dir, Options{Keys: c.keys(policy.Retired), Jobs: 7})
		var ja, jb, ta, tb bytes.Buffer
		WriteJSON(&ja, []*Report{a})
		WriteJSON(&jb, []*Report{b})
		WriteText(&ta, []*Report{a})
		WriteText(&tb, []*Report{b})
		if ja.String() != jb.String() || ta.String() != tb.String() {
			t.Fatalf("output depends on jobs:\n%s\n%s", ta.String(), tb.String())
		}
	})
}

func TestRunMalformed(t *testing.T) {
	dir := t.TempDir()
	k := genKey(t, "acme-2", 2)
	ps := gen(t, dir, 1, 10, k)
	pk := []*policy.Key{policyKey("acme_2026", k, policy.Active)}
	// Unparsable, for another path, a FIFO and a directory.
	bad := func(hash string, text string) {
		os.WriteFile(filepath.Join(dir, hash+".narinfo"), []byte(text), 0o644)
	}
	bad(ps[0].Hash, "StorePath: /nix/store/x\n")
	other, _ := os.ReadFile(filepath.Join(dir, ps[2].Hash+".narinfo"))
	bad(ps[1].Hash, string(other))
	fifo := filepath.Join(dir, strings.Repeat("0", 32)+".narinfo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, strings.Repeat("1", 32)+".narinfo"), 0o755)
	// Names Nix ignores are ignored.
	os.WriteFile(filepath.Join(dir, "short.narinfo"), []byte("x"), 0o644)
	done := make(chan *Report)
	go func() { done <- run(t, dir, Options{Keys: pk}) }()
	var r *Report
	select {
	case r = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("audit hangs (opening a FIFO?)")
	}
	if r.Paths != 12 || r.Malformed != 4 || r.Covered != 8 {
		t.Fatalf("paths %d malformed %d covered %d, want 12 4 8\n%s", r.Paths, r.Malformed, r.Covered, dumpJSON(r))
	}
	msgs := dumpJSON(r.Examples.Malformed)
	for _, want := range []string{"named pipe", "directory", "narinfo line 1", "not a path with hash " + ps[1].Hash} {
		if !strings.Contains(msgs, want) {
			t.Errorf("malformed examples do not say %q:\n%s", want, msgs)
		}
	}
	if ExitCode([]*Report{r}) != 2 {
		t.Fatal("malformed narinfos must exit 2")
	}
}

func TestRunPathsList(t *testing.T) {
	dir := t.TempDir()
	k := genKey(t, "acme-2", 2)
	ps := gen(t, dir, 1, 10, k)
	list := ps[0].StorePath + "\n" + ps[1].Hash + "\n\n" + filepath.Base(ps[2].StorePath) + "\n" +
		ps[0].StorePath + "\n" + "/nix/store/" + strings.Repeat("a", 32) + "-missing\n"
	r := run(t, dir, Options{Keys: []*policy.Key{policyKey("acme_2026", k, policy.Active)}, Paths: strings.NewReader(list)})
	if r.Paths != 3 || r.NotFound != 1 || r.Covered != 3 {
		t.Fatalf("paths %d not found %d covered %d, want 3 1 3", r.Paths, r.NotFound, r.Covered)
	}
}

func TestRunRejectsSharedKeyName(t *testing.T) {
	dir := t.TempDir()
	gen(t, dir, 1, 1)
	s, _ := binarycache.OpenFile(dir, binarycache.Options{})
	a, b := genKey(t, "acme-1", 1), genKey(t, "acme-1", 2)
	_, err := Run(context.Background(), s, Options{Keys: []*policy.Key{policyKey("a", a, policy.Active), policyKey("b", b, policy.Retired)}})
	if err == nil || !strings.Contains(err.Error(), "share the Nix key name acme-1") {
		t.Fatalf("err = %v", err)
	}
}

func TestSummaryRoundTrip(t *testing.T) {
	c := newMixedCache(t)
	r := run(t, c.dir, Options{Keys: c.keys(policy.Retired)})
	at := time.Date(2026, 12, 1, 23, 30, 0, 0, time.FixedZone("x", -3600))
	s := r.Summary(at)
	if s.Date != "2026-12-02" {
		t.Fatalf("date %s, want the UTC day 2026-12-02", s.Date)
	}
	enc, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte("/nix/store")) {
		t.Fatalf("summary holds paths:\n%s", enc)
	}
	back, err := DecodeSummary(enc)
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, back, s)
	}
	enc2, _ := back.Encode()
	if !bytes.Equal(enc, enc2) {
		t.Fatal("encoding is not stable")
	}
	if got, want := s.RetireNote("acme-2"), "retiring acme_2026: 44 of 86 paths rely on it alone, audited 2026-12-02"; got != want {
		t.Fatalf("note %q, want %q", got, want)
	}
	if n, ok := s.Strands("acme-2"); n != 44 || !ok {
		t.Fatalf("Strands(acme-2) = %d, %v", n, ok)
	}
	if _, ok := s.Strands("acme-1"); ok {
		t.Fatal("a summary with the key retired cannot tell what it strands")
	}
	if got := s.RetireNote("acme-1"); !strings.Contains(got, "already retired") {
		t.Fatalf("note for a retired key: %q", got)
	}
	if got := s.RetireNote("nope-1"); !strings.Contains(got, "does not list this key") {
		t.Fatalf("note for an unknown key: %q", got)
	}
	safe, _ := s.SafeFrom(NarinfoCacheTTL)
	if safe.Format(DateLayout) != "2027-01-01" {
		t.Fatalf("safe from %v", safe)
	}
	for _, bad := range []string{
		strings.Replace(string(enc), `"version": 1`, `"version": 2`, 1),
		strings.Replace(string(enc), `"date": "2026-12-02"`, `"date": "yesterday"`, 1),
		strings.Replace(string(enc), `"paths": 86`, `"paths": -1`, 1),
		strings.Replace(string(enc), `"paths": 86`, `"paths": 86, "secret": "x"`, 1),
		string(enc) + "{}",
	} {
		if _, err := DecodeSummary([]byte(bad)); err == nil {
			t.Errorf("decoded a bad summary:\n%s", bad)
		}
	}
}

func dumpJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func TestWriteText(t *testing.T) {
	c := newMixedCache(t)
	r := run(t, c.dir, Options{Keys: c.keys(policy.Retired), Catalog: "acme"})
	var b bytes.Buffer
	WriteText(&b, []*Report{r})
	for _, want := range []string{
		"catalog acme: file://" + c.dir + "\n",
		"        86 paths checked\n",
		"        31 signed only by retired keys\n",
		"         2 with an INVALID signature\n",
		"    acme-2 (key.acme_2026, active): 44 valid, 2 invalid, 44 would be stranded by retiring it\n",
		"      ... and 39 more\n",
		"    acme-1 (key.acme_2025, retired): 55 valid, 0 invalid\n",
		"  signatures by keys the policy does not know: cache.nixos.org-1 (4)\n",
		"    " + c.corrupt.StorePath + ": signature by acme-2 does not verify\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, b.String())
		}
	}
}
