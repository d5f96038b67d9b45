package nixconf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// StoreInfo is what "nix store info" (Nix 2.19 and later), "nix store ping
// --json" (2.14 to 2.18) or "nix store ping" (text, on standard error) says
// about the store a Nix client uses: its URL, the Nix version behind it,
// and whether it trusts the client.
type StoreInfo struct {
	// URL is the store as Nix names it: "daemon", "unix:///path",
	// "local", "ssh-ng://host", ...
	URL string `json:"url"`
	// Version is the Nix version of the store's side (the daemon's), ""
	// when Nix does not print one.
	Version string `json:"version,omitempty"`
	// Trusted is whether the store trusts the client; nil when Nix does
	// not say: a client before 2.15, a daemon before 2.15, or a store that
	// does not know.
	Trusted *bool `json:"trusted"`
	// Source is the command that answered ("nix store info --json").
	Source string `json:"source,omitempty"`
}

// Daemon reports whether the store is a Nix daemon, which applies an
// untrusted client's trusted-public-keys and substituters only in part.
// With a local store (root on a multi-user install, or a single-user
// install) Nix applies every setting itself.
func (s *StoreInfo) Daemon() bool {
	return s.URL == "daemon" || strings.HasPrefix(s.URL, "unix://") || strings.HasPrefix(s.URL, "ssh-ng://")
}

// Local reports whether the store is this machine's store, used directly.
func (s *StoreInfo) Local() bool {
	return s.URL == "local" || strings.HasPrefix(s.URL, "local?") || strings.HasPrefix(s.URL, "/")
}

// ParseStoreInfo reads "nix store info --json" or "nix store ping --json"
// output ({"url": ..., "version": ..., "trusted": 1}), or the text form
// ("Store URL: daemon", "Version: 2.8.0", "Trusted: 1" lines), which Nix
// prints on standard error. It requires the URL.
func ParseStoreInfo(data []byte) (*StoreInfo, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return parseStoreInfoJSON(t)
	}
	s := &StoreInfo{}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch name {
		case "Store URL":
			s.URL = value
		case "Version":
			s.Version = value
		case "Trusted":
			t, err := trustFlag(value)
			if err != nil {
				return nil, err
			}
			s.Trusted = t
		}
	}
	if s.URL == "" {
		return nil, fmt.Errorf("no \"Store URL:\" line; is it the output of \"nix store info\"?")
	}
	return s, nil
}

func parseStoreInfoJSON(data []byte) (*StoreInfo, error) {
	var raw struct {
		URL     *string         `json:"url"`
		Version string          `json:"version"`
		Trusted json.RawMessage `json:"trusted"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("invalid JSON from nix store info --json: %v", err)
	}
	if raw.URL == nil || *raw.URL == "" {
		return nil, fmt.Errorf("no \"url\" in the JSON; is it the output of \"nix store info --json\"?")
	}
	s := &StoreInfo{URL: *raw.URL, Version: raw.Version}
	if len(raw.Trusted) > 0 {
		t, err := trustFlag(string(raw.Trusted))
		if err != nil {
			return nil, err
		}
		s.Trusted = t
	}
	return s, nil
}

// trustFlag reads Nix's trusted flag: 1 or 0 (true and false accepted),
// null for unknown.
func trustFlag(v string) (*bool, error) {
	var t bool
	switch v {
	case "1", "true":
		t = true
	case "0", "false":
	case "null":
		return nil, nil
	default:
		return nil, fmt.Errorf("trusted is %q, want 1 or 0", truncate(v, 20))
	}
	return &t, nil
}

// storeInfoCommands ask a Nix client about its store, newest first: "store
// info" exists since Nix 2.19; "store ping" has --json since 2.14 and only
// text (on standard error) before. An older Nix rejects the newer forms
// with "not a recognised command" or "unrecognised flag".
var storeInfoCommands = []struct {
	args   []string
	stderr bool // the answer is the text on standard error
}{
	{[]string{"store", "info", "--json"}, false},
	{[]string{"store", "ping", "--json"}, false},
	{[]string{"store", "ping"}, true},
}

// queryStoreInfo runs the store info commands with output until one
// answers. A failure other than an unknown command or flag (a daemon that
// does not answer) ends the search: an older form would fail the same way.
func queryStoreInfo(output func(argv []string) (stdout, stderr []byte, err error)) (*StoreInfo, error) {
	var lastErr error
	for _, c := range storeInfoCommands {
		argv := append([]string{"nix", "--extra-experimental-features", "nix-command"}, c.args...)
		out, stderr, err := output(argv)
		if err != nil {
			lastErr = fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, firstLine(stderr))
			if unknownCommand(stderr) {
				continue
			}
			return nil, lastErr
		}
		if c.stderr {
			out = stderr
		}
		s, err := ParseStoreInfo(out)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", strings.Join(argv, " "), err)
		}
		s.Source = "nix " + strings.Join(c.args, " ")
		return s, nil
	}
	return nil, lastErr
}

// unknownCommand tells whether Nix refused a subcommand or flag it does
// not have ("error: 'config' is not a recognised command").
func unknownCommand(stderr []byte) bool {
	return bytes.Contains(stderr, []byte("is not a recognised command")) || bytes.Contains(stderr, []byte("is not a recognized command")) ||
		bytes.Contains(stderr, []byte("unrecognised flag"))
}

// firstLine is the line of a command's standard error that says what went
// wrong: Nix's first "error: ..." line, else the first line with text.
func firstLine(b []byte) string {
	first := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "error:") {
			return l
		}
		if first == "" {
			first = l
		}
	}
	if first == "" {
		return "(no message)"
	}
	return first
}

// Trust is what a Nix daemon makes of a client's own settings.
type Trust string

const (
	// Trusted: the daemon applies the client's settings, its
	// trusted-public-keys and substituters included.
	Trusted Trust = "trusted"
	// Untrusted: the daemon ignores the client's trusted-public-keys and
	// keeps only the substituters its own trusted-substituters or
	// substituters list (NixOS/nix#1921).
	Untrusted Trust = "untrusted"
	// TrustUnknown: a daemon that does not say, and nothing to infer
	// from.
	TrustUnknown Trust = "unknown"
	// NoDaemon: the store is used directly (or is not a Nix daemon), so
	// the client's settings are the ones that apply.
	NoDaemon Trust = "no-daemon"
)

// DaemonTrust is the verdict on whether the daemon trusts the caller.
type DaemonTrust struct {
	Store *StoreInfo
	Trust Trust
	// Inferred says Nix did not tell, and Trust comes from matching the
	// caller against trusted-users as the client reads nix.conf (the
	// daemon reads the same file unless it runs with another
	// NIX_CONF_DIR, and only when it starts).
	Inferred bool
	// Why is one sentence on how the verdict was reached.
	Why string
}

// JudgeDaemonTrust decides whether the daemon behind store trusts a user
// (name, and the names of their groups). When the daemon does not say
// (Nix before 2.15 on either side), it matches trusted-users from shown,
// the client's configuration, the way the daemon does: "*", the user's
// name, or "@GROUP" for one of their groups.
func JudgeDaemonTrust(store *StoreInfo, shown *ShownConfig, user string, groups []string) DaemonTrust {
	d := DaemonTrust{Store: store}
	who := user
	if who == "" {
		who = "this user"
	}
	switch {
	case !store.Daemon():
		d.Trust = NoDaemon
		if store.Local() {
			d.Why = fmt.Sprintf("the store is %s, used directly without a daemon, so these settings apply as shown", store.URL)
		} else {
			d.Why = fmt.Sprintf("the store is %s, not a Nix daemon, so these settings apply as shown", store.URL)
		}
	case store.Trusted != nil:
		d.Trust, d.Why = Untrusted, "the daemon says it does not trust "+who
		if *store.Trusted {
			d.Trust, d.Why = Trusted, "the daemon says it trusts "+who
		}
	default:
		d.Trust = TrustUnknown
		nix := "this Nix"
		if store.Version != "" {
			nix = "the daemon's Nix " + store.Version + " or this client"
		}
		d.Why = nix + " does not say whether the daemon trusts " + who + " (Nix 2.15 and later do)"
		users, ok := shown.List("trusted-users")
		if !ok || user == "" {
			return d
		}
		d.Inferred = true
		if MatchUser(user, groups, users) {
			d.Trust = Trusted
			d.Why += fmt.Sprintf("; trusted-users (%s) names %s, as this client reads nix.conf", strings.Join(users, " "), who)
		} else {
			d.Trust = Untrusted
			d.Why += fmt.Sprintf("; trusted-users (%s) does not name %s, as this client reads nix.conf", strings.Join(users, " "), who)
		}
	}
	return d
}

// MatchUser is the Nix daemon's matchUser: whether users (trusted-users
// or allowed-users) names user by "*", by name, or by "@GROUP" for one of
// groups.
func MatchUser(user string, groups, users []string) bool {
	for _, u := range users {
		if u == "*" || u == user {
			return true
		}
		if g, ok := strings.CutPrefix(u, "@"); ok && slices.Contains(groups, g) {
			return true
		}
	}
	return false
}

// UntrustedSettings are the trusted-public-keys and substituters a daemon
// applies for a client it does not trust (Nix's daemon.cc, 2.8 to 2.26):
// its own keys, whatever the client sets; and the client's substituters,
// less those that neither the daemon's trusted-substituters nor its
// substituters list ("ignoring untrusted substituter"), a missing
// trailing slash forgiven. system is the configuration without the
// user's files and NIX_CONFIG, which is what the daemon reads.
func UntrustedSettings(client, system *ShownConfig) *Settings {
	s := &Settings{shown: true}
	keys, _ := system.List(trustedKeys.name)
	for _, k := range keys {
		s.TrustedPublicKeys = append(s.TrustedPublicKeys, Item{Value: k})
	}
	allowed := map[string]bool{}
	for _, name := range []string{"trusted-substituters", substituters.name} {
		vs, _ := system.List(name)
		for _, v := range vs {
			allowed[v] = true
		}
	}
	subs, _ := client.List(substituters.name)
	for _, u := range subs {
		switch {
		case allowed[u]:
			s.Substituters = append(s.Substituters, Item{Value: u})
		case !strings.HasSuffix(u, "/") && allowed[u+"/"]:
			s.Substituters = append(s.Substituters, Item{Value: u + "/"})
		}
	}
	return s
}

// Ignored are the parts of a Want that the client's configuration gives
// but the daemon does not apply, because it does not trust the client.
type Ignored struct {
	// Keys are active keys the client trusts (first of their name) that
	// the daemon does not.
	Keys []string
	// Substituters are the Want's substituters the client configures that
	// the daemon drops.
	Substituters []string
}

// IgnoredForUntrusted compares what the client's configuration gives the
// Want with what a daemon that does not trust the client applies
// (UntrustedSettings).
func IgnoredForUntrusted(want Want, client, system *ShownConfig) Ignored {
	mine := checkWant(want, client.Settings())
	theirs := checkWant(want, UntrustedSettings(client, system))
	var ig Ignored
	for i, k := range mine.Keys {
		if !k.Retired && k.Status == TrustOK && theirs.Keys[i].Status != TrustOK {
			ig.Keys = append(ig.Keys, k.Key)
		}
	}
	for i, s := range mine.Substituters {
		if s.Configured && !theirs.Substituters[i].Configured {
			ig.Substituters = append(ig.Substituters, s.URL)
		}
	}
	return ig
}
