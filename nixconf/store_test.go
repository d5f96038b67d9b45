package nixconf

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseStoreInfo(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		in      string
		url     string
		version string
		trusted *bool
	}{
		{`{"trusted":1,"url":"local","version":"2.26.3"}`, "local", "2.26.3", &yes},
		{`{"trusted":0,"url":"daemon","version":"2.26.3"}` + "\n", "daemon", "2.26.3", &no},
		{`{"url":"daemon","version":"2.8.0"}`, "daemon", "2.8.0", nil},  // a 2.26 client, a 2.8 daemon
		{`{"trusted":null,"url":"unix:///s"}`, "unix:///s", "", nil},    // a store that does not know
		{`{"trusted":true,"url":"ssh-ng://h"}`, "ssh-ng://h", "", &yes}, // not what Nix prints, but clear
		{"Store URL: daemon\nVersion: 2.8.0\n", "daemon", "2.8.0", nil},
		{"warning: 'nix store ping' is a deprecated alias for 'nix store info'\nStore URL: local\nVersion: 2.26.3\nTrusted: 1\n", "local", "2.26.3", &yes},
	} {
		s, err := ParseStoreInfo([]byte(c.in))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if s.URL != c.url || s.Version != c.version || (s.Trusted == nil) != (c.trusted == nil) || s.Trusted != nil && *s.Trusted != *c.trusted {
			t.Errorf("%q: got %+v (trusted %v)", c.in, s, deref(s.Trusted))
		}
	}
	for _, bad := range []string{"", "{}", `{"url":""}`, `{"url":"daemon","trusted":2}`, "Store URL: daemon\nTrusted: maybe\n", "error: cannot connect", `{"url":`} {
		if s, err := ParseStoreInfo([]byte(bad)); err == nil {
			t.Errorf("%q: parsed as %+v, want an error", bad, s)
		}
	}
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func FuzzParseStoreInfo(f *testing.F) {
	f.Add([]byte(`{"trusted":1,"url":"local","version":"2.26.3"}`))
	f.Add([]byte("Store URL: daemon\nVersion: 2.8.0\nTrusted: 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseStoreInfo(data)
		if err != nil {
			return
		}
		if s.URL == "" {
			t.Fatalf("parsed without a URL: %q", data)
		}
		if s.Daemon() && s.Local() {
			t.Fatalf("%q is both a daemon and local", s.URL)
		}
	})
}

// fakeStoreNix answers like a Nix version that knows some of the store info
// commands: a map from the arguments after the feature flag to stdout,
// stderr and whether it fails.
type fakeStoreNix map[string]struct {
	stdout, stderr string
	fail           bool
}

func (f fakeStoreNix) output(argv []string) ([]byte, []byte, error) {
	r, ok := f[strings.Join(argv[3:], " ")]
	if !ok {
		return nil, []byte("error: '" + argv[4] + "' is not a recognised command\nTry 'nix --help' for more information.\n"), errors.New("exit status 1")
	}
	if r.fail {
		return []byte(r.stdout), []byte(r.stderr), errors.New("exit status 1")
	}
	return []byte(r.stdout), []byte(r.stderr), nil
}

func TestQueryStoreInfo(t *testing.T) {
	unrecognisedJSON := struct {
		stdout, stderr string
		fail           bool
	}{"", "error: unrecognised flag '--json'\n", true}
	nix28 := fakeStoreNix{"store ping --json": unrecognisedJSON, "store ping": {stderr: "Store URL: daemon\nVersion: 2.8.0\n"}}
	nix218 := fakeStoreNix{"store ping --json": {stdout: `{"trusted":0,"url":"daemon","version":"2.18.1"}`}}
	nix226 := fakeStoreNix{"store info --json": {stdout: `{"trusted":1,"url":"local","version":"2.26.3"}`}}
	down := fakeStoreNix{"store info --json": {stdout: `{"url":"daemon"}`, stderr: "warning: something first\nerror: cannot connect to socket at '/nix/var/nix/daemon-socket/socket': Connection refused\n", fail: true}}
	for _, c := range []struct {
		name   string
		nix    fakeStoreNix
		source string
		err    string
	}{
		{"2.8", nix28, "nix store ping", ""},
		{"2.18", nix218, "nix store ping --json", ""},
		{"2.26", nix226, "nix store info --json", ""},
		{"daemon down", down, "", "nix --extra-experimental-features nix-command store info --json: exit status 1: error: cannot connect to socket"},
		{"nothing works", fakeStoreNix{}, "", "store ping: exit status 1: error: 'ping' is not a recognised command"},
	} {
		s, err := queryStoreInfo(c.nix.output)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || s.Source != c.source {
			t.Errorf("%s: %+v, %v; want source %q", c.name, s, err, c.source)
		}
	}
}

func TestJudgeDaemonTrust(t *testing.T) {
	yes, no := true, false
	shown := func(users string) *ShownConfig {
		c, err := ParseShowConfig([]byte("trusted-public-keys = a:1\ntrusted-users = " + users + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	noUsers, _ := ParseShowConfig([]byte("trusted-public-keys = a:1\n"))
	for _, c := range []struct {
		name     string
		store    StoreInfo
		shown    *ShownConfig
		user     string
		groups   []string
		trust    Trust
		inferred bool
		why      string
	}{
		{"local", StoreInfo{URL: "local", Trusted: &yes}, shown("root"), "ann", nil, NoDaemon, false, "used directly without a daemon"},
		{"binary cache", StoreInfo{URL: "file:///c"}, shown("root"), "ann", nil, NoDaemon, false, "not a Nix daemon"},
		{"daemon says yes", StoreInfo{URL: "daemon", Trusted: &yes}, shown("root"), "ann", nil, Trusted, false, "says it trusts ann"},
		{"daemon says no", StoreInfo{URL: "unix:///s", Trusted: &no}, shown("ann"), "ann", nil, Untrusted, false, "does not trust ann"},
		{"2.8: named", StoreInfo{URL: "daemon", Version: "2.8.0"}, shown("root ann"), "ann", nil, Trusted, true, "daemon's Nix 2.8.0 or this client does not say"},
		{"2.8: by group", StoreInfo{URL: "daemon"}, shown("root @wheel"), "ann", []string{"users", "wheel"}, Trusted, true, "trusted-users (root @wheel) names ann"},
		{"2.8: everyone", StoreInfo{URL: "daemon"}, shown("*"), "ann", nil, Trusted, true, "names ann"},
		{"2.8: not named", StoreInfo{URL: "daemon"}, shown("root @wheel"), "ann", []string{"users"}, Untrusted, true, "does not name ann"},
		{"2.8: a group of that name is not the user", StoreInfo{URL: "daemon"}, shown("@ann"), "ann", []string{"users"}, Untrusted, true, "does not name ann"},
		{"2.8: no trusted-users shown", StoreInfo{URL: "daemon"}, noUsers, "ann", nil, TrustUnknown, false, "does not say"},
	} {
		d := JudgeDaemonTrust(&c.store, c.shown, c.user, c.groups)
		if d.Trust != c.trust || d.Inferred != c.inferred || !strings.Contains(d.Why, c.why) {
			t.Errorf("%s: %+v; want %s inferred=%v, why containing %q", c.name, d, c.trust, c.inferred, c.why)
		}
	}
}

func TestUntrustedSettings(t *testing.T) {
	parse := func(s string) *ShownConfig {
		c, err := ParseShowConfig([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	system := parse("substituters = https://cache.nixos.org/ https://cache.acme.example\n" +
		"trusted-public-keys = " + NixOSCacheKey + " " + keyAcme1 + "\n" +
		"trusted-substituters = https://allowed.example/\n")
	// The user's files added a key and three substituters and dropped one
	// of the system's (a plain substituters line).
	client := parse("substituters = https://cache.nixos.org/ https://allowed.example https://mine.example\n" +
		"trusted-public-keys = " + NixOSCacheKey + " " + keyAcme1 + " " + keyAcme2 + "\n")
	s := UntrustedSettings(client, system)
	if got := s.Keys(); !slices.Equal(got, []string{NixOSCacheKey, keyAcme1}) {
		t.Errorf("keys %q: the daemon keeps its own", got)
	}
	// The client's list, filtered: the dropped system substituter stays
	// dropped (the daemon takes the client's list, cachix#413), the
	// untrusted one goes, the trusted one gains its slash.
	if got := s.SubstituterURLs(); !slices.Equal(got, []string{"https://cache.nixos.org/", "https://allowed.example/"}) {
		t.Errorf("substituters %q", got)
	}

	want := Want{Keys: []string{keyAcme1, keyAcme2}, Retired: []string{keyAcme0}, Substituters: []string{"https://allowed.example", "https://mine.example", "https://cache.acme.example"}}
	ig := IgnoredForUntrusted(want, client, system)
	if !slices.Equal(ig.Keys, []string{keyAcme2}) || !slices.Equal(ig.Substituters, []string{"https://mine.example"}) {
		t.Errorf("ignored %+v", ig)
	}
	// Nothing is ignored when the user's files add nothing.
	if ig := IgnoredForUntrusted(want, system, system); len(ig.Keys)+len(ig.Substituters) != 0 {
		t.Errorf("same configuration: ignored %+v", ig)
	}
}
