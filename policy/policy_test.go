package policy

import (
	"strings"
	"testing"
	"time"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
	"github.com/keyform/keyform/internal/hint"
)

func TestSortKeys(t *testing.T) {
	ks := []*Key{
		{Label: "b2", Name: "b-2", Catalog: "b"},
		{Label: "a9", Name: "a-9", Catalog: "a"},
		{Label: "loose", Name: "z-1"},
		{Label: "b1", Name: "b-1", Catalog: "b"},
		{Label: "a10", Name: "a-10", Catalog: "a"},
	}
	SortKeys(ks)
	var got []string
	for _, k := range ks {
		got = append(got, k.Label)
	}
	want := []string{"loose", "a10", "a9", "b1", "b2"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v (by catalog, keys without one first, then name)", got, want)
		}
	}
}

func TestLookups(t *testing.T) {
	p := &Policy{
		Catalogs: []*Catalog{{Label: "a"}, {Label: "b"}},
		Keys:     []*Key{{Label: "k1"}, {Label: "k2"}},
		Targets:  []*Target{{Kind: NixOS, Label: "t"}},
	}
	if p.Key("k2") != p.Keys[1] || p.Key("k3") != nil {
		t.Error("Key lookup")
	}
	if p.Catalog("a") != p.Catalogs[0] || p.Catalog("c") != nil {
		t.Error("Catalog lookup")
	}
	if p.Target("nixos.t") != p.Targets[0] || p.Target("darwin.t") != nil {
		t.Error("Target lookup")
	}
}

// TestRetireRules: what retire checks before it edits the policy.
func TestRetireRules(t *testing.T) {
	a1 := &Key{Label: "a1", Catalog: "a", State: Active}
	a2 := &Key{Label: "a2", Catalog: "a", State: Retired}
	b1 := &Key{Label: "b1", Catalog: "b", State: Active}
	b2 := &Key{Label: "b2", Catalog: "b", State: Active}
	loose := &Key{Label: "loose", State: Active}
	p := &Policy{
		Keys: []*Key{a1, a2, b1, b2, loose},
		Targets: []*Target{
			{Kind: NixOS, Label: "cat", Trust: []Ref{{"catalog", "a"}}},
			{Kind: NixConf, Label: "direct", Trust: []Ref{{"catalog", "b"}, {"key", "a1"}}},
			{Kind: Darwin, Label: "both", Trust: []Ref{{"key", "a1"}, {"key", "b2"}}},
		},
	}
	var ids []string
	for _, t := range p.TrustingDirectly(a1) {
		ids = append(ids, t.ID())
	}
	if len(ids) != 2 || ids[0] != "nixconf.direct" || ids[1] != "darwin.both" {
		t.Errorf("TrustingDirectly(a1) = %v; a catalog reference is not direct", ids)
	}
	if got := p.TrustingDirectly(b1); len(got) != 0 {
		t.Errorf("TrustingDirectly(b1) = %v, want none", got)
	}
	for _, tt := range []struct {
		k    *Key
		want bool
	}{{a1, true}, {b1, false}, {loose, false}} {
		if got := p.LastActive(tt.k); got != tt.want {
			t.Errorf("LastActive(%s) = %v, want %v", tt.k.Label, got, tt.want)
		}
	}
}

func TestTrustedBy(t *testing.T) {
	k1, k2, k3 := &Key{Label: "k1"}, &Key{Label: "k2"}, &Key{Label: "k3"}
	p := &Policy{Keys: []*Key{k1, k2, k3}, Targets: []*Target{
		{Kind: NixOS, Label: "a", Keys: []*Key{k1, k2}},
		{Kind: NixConf, Label: "b", Keys: []*Key{k2}},
	}}
	m := p.TrustedBy()
	if got := m[k2]; len(got) != 2 || got[0] != "nixos.a" || got[1] != "nixconf.b" {
		t.Errorf("TrustedBy()[k2] = %v", got)
	}
	if len(m[k1]) != 1 || m[k3] != nil {
		t.Errorf("TrustedBy() = %v", m)
	}
}

// A key expires at the end of its expires day, in UTC; retired keys and
// keys without a date never do.
func TestExpired(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	k := &Key{Label: "k", PublicKey: "k:x", State: Active, Expires: day("2026-11-25")}
	for now, want := range map[string]bool{
		"2026-11-24T23:59:59Z":      false,
		"2026-11-25T00:00:00Z":      false,
		"2026-11-25T23:59:59Z":      false,
		"2026-11-26T00:00:00Z":      true,
		"2026-11-25T20:00:00-05:00": true, // 2026-11-26 01:00 UTC
		"2027-01-01T00:00:00Z":      true,
	} {
		at, err := time.Parse(time.RFC3339, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Expired(at); got != want {
			t.Errorf("Expired(%s) = %v, want %v", now, got, want)
		}
	}
	later := day("2027-01-01")
	if got := k.DaysLeft(day("2026-11-20")); got != 5 {
		t.Errorf("DaysLeft = %d, want 5", got)
	}
	for _, c := range []struct {
		k    Key
		want string
	}{
		{Key{PublicKey: "k:x", State: Active, Expires: day("2026-11-25")}, "expired"},
		{Key{PublicKey: "k:x", State: Active}, "active"},
		{Key{PublicKey: "k:x", State: Retired, Expires: day("2026-11-25")}, "retired"},
		{Key{State: Active, Expires: day("2026-11-25")}, "pending"},
	} {
		if got := c.k.Status(later); got != c.want {
			t.Errorf("Status of %+v = %q, want %q", c.k, got, c.want)
		}
	}
	if note := k.ExpiredNote(); !strings.Contains(note, "expired on 2026-11-25") || !strings.Contains(note, "keyform rotate k") {
		t.Errorf("ExpiredNote = %q", note)
	}
	ks := []*Key{k, {Label: "r", State: Retired, Expires: day("2020-01-01")}, {Label: "n", State: Active}}
	if got := ExpiredKeys(ks, later); len(got) != 1 || got[0] != k {
		t.Errorf("ExpiredKeys = %v", got)
	}
}

// TestKeyPath: one answer for where a publisher keeps each key, and for
// KeyPathFor without a publisher, the path the key's publishers share.
func TestKeyPath(t *testing.T) {
	main := &Key{Label: "main_1", Name: "cache.main.example-1", PrivateKeyPath: "/var/lib/keyform/main.key"}
	other := &Key{Label: "other_1", Name: "cache.other.example-1", PrivateKeyPath: "/var/lib/keyform/other.key"}
	lone := &Key{Label: "lone_1", Name: "lone-1", PrivateKeyPath: "/var/lib/keyform/lone.key"}
	bare := &Key{Label: "bare_1", Name: "bare-1"}
	alice := &Publisher{Label: "alice", Keys: []string{"main_1", "other_1"}, PrivateKeyDir: "/home/alice/keys"}
	bob := &Publisher{Label: "bob", Keys: []string{"main_1"}, PrivateKeyPath: "/home/bob/main.key"}
	carol := &Publisher{Label: "carol", Keys: []string{"other_1"}}
	p := &Policy{Keys: []*Key{bare, lone, main, other}, Publishers: []*Publisher{alice, bob, carol}}

	for _, c := range []struct {
		pub  *Publisher
		k    *Key
		want string
	}{
		{alice, main, "/home/alice/keys/cache.main.example-1.key"},
		{alice, other, "/home/alice/keys/cache.other.example-1.key"},
		{bob, main, "/home/bob/main.key"},
		{carol, other, "/var/lib/keyform/other.key"},
		{carol, bare, ""},
		{bob.WithKeyDir("/tmp/out"), main, "/tmp/out/cache.main.example-1.key"},
		{carol.WithKeyDir("/tmp/out"), other, "/tmp/out/cache.other.example-1.key"},
	} {
		if got := c.pub.KeyPath(c.k); got != c.want {
			t.Errorf("%s.KeyPath(%s) = %q, want %q", c.pub.Label, c.k.Label, got, c.want)
		}
	}
	if bob.PrivateKeyPath != "/home/bob/main.key" {
		t.Errorf("WithKeyDir changed the publisher")
	}

	for _, c := range []struct {
		k         *Key
		publisher string
		want      string
		err       string
	}{
		{main, "alice", "/home/alice/keys/cache.main.example-1.key", ""},
		{main, "bob", "/home/bob/main.key", ""},
		{other, "carol", "/var/lib/keyform/other.key", ""},
		{lone, "", "/var/lib/keyform/lone.key", ""},
		{bare, "", "", ""},
		{main, "", "", "the publishers of key main_1 keep it at different paths (alice: /home/alice/keys/cache.main.example-1.key, bob: /home/bob/main.key)"},
		{other, "", "", "the publishers of key other_1 keep it at different paths (alice: /home/alice/keys/cache.other.example-1.key, carol: /var/lib/keyform/other.key)"},
		{main, "carol", "", "publisher carol does not sign with key main_1"},
		{main, "mallory", "", `no publisher "mallory" in the policy`},
	} {
		got, err := p.KeyPathFor(c.k, c.publisher)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("KeyPathFor(%s, %q): error %v, want %q", c.k.Label, c.publisher, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("KeyPathFor(%s, %q) = %q, %v; want %q", c.k.Label, c.publisher, got, err, c.want)
		}
	}
	// A key whose only publisher overrides the path is installed at the
	// publisher's path, as Flox is configured.
	solo := &Policy{Keys: []*Key{main}, Publishers: []*Publisher{bob}}
	if got, err := solo.KeyPathFor(main, ""); err != nil || got != "/home/bob/main.key" {
		t.Errorf("KeyPathFor with one overriding publisher = %q, %v", got, err)
	}
}

// TestFind: lookups of command-line names fail with the choices as a hint.
func TestFind(t *testing.T) {
	k := &Key{Label: "k1", Name: "k-1"}
	pending := &Key{Label: "k0", Name: "k-0"}
	k.PublicKey = "k-1:x"
	p := &Policy{
		Keys:       []*Key{pending, k},
		Publishers: []*Publisher{{Label: "alice"}},
		Targets:    []*Target{{Kind: NixOS, Label: "ci"}, {Kind: NixConf, Label: "ci"}, {Kind: Darwin, Label: "laptops"}},
	}
	check := func(err error, msg, fix string) {
		t.Helper()
		if err == nil || err.Error() != msg || hint.Of(err) != fix {
			t.Errorf("error %v (hint %q), want %q (hint %q)", err, hint.Of(err), msg, fix)
		}
	}
	_, err := p.FindKey("k9")
	check(err, `no key "k9" in the policy`, `run "keyform keys list" to see the declared keys`)
	_, err = p.FindGeneratedKey("k0")
	check(err, "key k0 has no public key yet", `generate it with "keyform keygen k0"`)
	if got, err := p.FindGeneratedKey("k1"); got != k || err != nil {
		t.Errorf("FindGeneratedKey(k1) = %v, %v", got, err)
	}
	labels := func(ks []*Key, err error) string {
		t.Helper()
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, k := range ks {
			out = append(out, k.Label)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		args         []string
		gen, sealing string
	}{
		{nil, "k0", "k1"},
		{[]string{"k1", "k0", "k1"}, "k1,k0", "key k0 has no public key yet"},
		{[]string{"k1"}, "k1", "k1"},
		{[]string{"k9"}, `no key "k9" in the policy`, `no key "k9" in the policy`},
	} {
		if got := labels(p.KeysToGenerate(c.args)); got != c.gen {
			t.Errorf("KeysToGenerate(%q) = %s, want %s", c.args, got, c.gen)
		}
		if got := labels(p.GeneratedKeys(c.args)); got != c.sealing {
			t.Errorf("GeneratedKeys(%q) = %s, want %s", c.args, got, c.sealing)
		}
	}
	_, err = p.FindPublisher("bob")
	check(err, `no publisher "bob" in the policy`, "the policy's publishers are: alice")
	_, err = p.FindTarget("ci")
	check(err, `"ci" names more than one target`, "name it with its kind: nixos.ci, nixconf.ci, darwin.laptops")
	_, err = p.FindTarget("servers")
	check(err, `no target "servers" in the policy`, "targets: nixos.ci, nixconf.ci, darwin.laptops")
	if got, err := p.FindTarget("laptops"); err != nil || got.ID() != "darwin.laptops" {
		t.Errorf("FindTarget(laptops) = %v, %v", got, err)
	}
	if h := p.Targets[2].RolloutHint(); h != `run "keyform render", import the generated module in the nix-darwin configuration and run "darwin-rebuild switch"; "keyform verify darwin.laptops" checks the result` {
		t.Errorf("RolloutHint = %s", h)
	}
}
