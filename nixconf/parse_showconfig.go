package nixconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/keyform/keyform/internal/redact"
)

// ShownConfig is a machine's effective configuration as printed by
// "nix config show" (Nix 2.20 and later) or "nix show-config", in text
// ("name = v1 v2" lines, sorted) or JSON ({"name": {"value": ...}}) form.
type ShownConfig struct {
	// Format is "json" or "text".
	Format string
	values map[string][]string
}

// List returns the words of a list setting, and whether the input has it.
func (c *ShownConfig) List(name string) ([]string, bool) {
	v, ok := c.values[name]
	return v, ok
}

// Settings returns the shown trusted-public-keys and substituters as
// effective settings, for CheckTrust. Their items have no position: Nix
// does not say which file or line set a value.
func (c *ShownConfig) Settings() *Settings {
	s := &Settings{shown: true}
	for _, st := range settings {
		vs := c.values[st.name]
		list := make([]Item, len(vs))
		for i, v := range vs {
			list[i] = Item{Value: v}
		}
		*s.list(st) = list
	}
	return s
}

// ParseShowConfig reads "nix config show" or "nix show-config" output,
// detecting JSON by its leading "{". It requires a trusted-public-keys
// setting, which every Nix prints, so that some other text is not taken for
// an empty configuration.
func ParseShowConfig(data []byte) (*ShownConfig, error) {
	var c *ShownConfig
	var err error
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		c, err = parseShowConfigJSON(data)
	} else {
		c, err = parseShowConfigText(data)
	}
	if err != nil {
		return nil, err
	}
	if _, ok := c.values[trustedKeys.name]; !ok {
		return nil, fmt.Errorf("no trusted-public-keys setting in the input; is it the output of \"nix config show\"?")
	}
	return c, nil
}

// ErrNixConf is wrapped by ParseShowConfig's error when the input is a
// nix.conf file rather than what "nix config show" prints.
var ErrNixConf = errors.New("a nix.conf file, not the output of \"nix config show\"")

// NixConfError says which line shows that the input is a nix.conf file.
// Reading one as a machine's configuration would be wrong in the ways
// that matter: it misses Nix's defaults, other configuration files and
// includes, and an extra- line means "add to what is there".
type NixConfError struct {
	Line   int
	Reason string
}

func (e *NixConfError) Error() string {
	return fmt.Sprintf("line %d %s: this is %s, which misses what Nix adds from its defaults and other files; capture the machine's effective configuration instead, with \"nix config show --json > FILE\" (\"nix show-config --json > FILE\" before Nix 2.20)", e.Line, e.Reason, ErrNixConf)
}

func (e *NixConfError) Unwrap() error { return ErrNixConf }

// nixConfLine reports why a line of "nix config show" text input can only
// come from a nix.conf: comments, includes and extra- settings appear in
// nix.conf files, never in what Nix prints, and Nix prints each setting
// once, sorted by name. A sorted, comment-free nix.conf of plain settings
// passes: read as shown configuration, it says what that file alone sets.
func nixConfLine(line, name, prev string, seen map[string]bool) string {
	t := strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(t, "#"):
		return "is a comment"
	case strings.HasPrefix(t, "include ") || strings.HasPrefix(t, "!include "):
		return "includes another file"
	case name == "":
		return ""
	case strings.HasPrefix(name, "extra-") && name != "extra-platforms":
		return fmt.Sprintf("sets %s (nix config show prints the merged %s, never an extra- setting)", name, strings.TrimPrefix(name, "extra-"))
	case seen[name]:
		return fmt.Sprintf("sets %s again (nix config show prints each setting once)", name)
	case name < prev:
		return fmt.Sprintf("sets %s after %s (nix config show prints settings sorted by name)", name, prev)
	}
	return ""
}

func parseShowConfigText(data []byte) (*ShownConfig, error) {
	c := &ShownConfig{Format: "text", values: map[string][]string{}}
	prev, seen := "", map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		// Warnings Nix prints on stderr end up here when a user
		// captures both streams.
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "warning:") {
			continue
		}
		if why := nixConfLine(line, "", "", nil); why != "" {
			return nil, &NixConfError{Line: i + 1, Reason: why}
		}
		name, value, ok := strings.Cut(line, " = ")
		if !ok {
			// An empty value prints as "name = "; an editor may have
			// trimmed the trailing space.
			name, ok = strings.CutSuffix(line, " =")
		}
		if !ok || name == "" || strings.ContainsAny(name, " \t=") {
			return nil, fmt.Errorf("line %d: %q is not a \"name = value\" line of nix config show", i+1, truncate(redact.String(line), 60))
		}
		if why := nixConfLine(line, name, prev, seen); why != "" {
			return nil, &NixConfError{Line: i + 1, Reason: why}
		}
		c.values[name] = words(value)
		prev, seen[name] = name, true
	}
	return c, nil
}

// words splits a value the way Nix splits list settings.
func words(s string) []string {
	out := []string{}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && isSep(byte(r)) }) {
		out = append(out, w)
	}
	return out
}

// shownLists are the list settings read from JSON output: the two keyform
// manages, and what decides how a daemon treats the client (verify).
var shownLists = []string{trustedKeys.name, substituters.name, "trusted-substituters", "trusted-users"}

func parseShowConfigJSON(data []byte) (*ShownConfig, error) {
	var raw map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("invalid JSON from nix config show --json: %v", err)
	}
	c := &ShownConfig{Format: "json", values: map[string][]string{}}
	for _, name := range shownLists {
		r, ok := raw[name]
		if !ok {
			continue
		}
		var list []string
		if err := json.Unmarshal(r.Value, &list); err != nil {
			var s string
			if err2 := json.Unmarshal(r.Value, &s); err2 != nil {
				return nil, fmt.Errorf("%s: value is not a list of strings: %s", name, truncate(redact.String(string(r.Value)), 60))
			}
			list = words(s)
		}
		// Items come from nix.conf words, so they hold no separators;
		// splitting again keeps that true for any input.
		c.values[name] = words(strings.Join(list, " "))
	}
	return c, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// showConfigCommands print a machine's effective configuration, newest
// first: "nix config show" exists since Nix 2.20; older Nix (Debian's
// 2.8) answers it with "'config' is not a recognised command" and has
// "nix show-config", which newer Nix deprecates. Trying them in order picks
// the one the installed Nix has without parsing "nix --version", whose
// numbers forks such as Lix do not share.
var showConfigCommands = [][]string{{"config", "show"}, {"show-config"}}

// ReadShownConfig runs "nix config show --json", or "nix show-config
// --json" when that fails, with the Host's Output, and returns the output
// and the command that gave it ("nix config show"). When both fail, the
// error quotes the last command and its standard error.
func (h Host) ReadShownConfig() (data []byte, source string, err error) {
	return readShownConfig(func(argv []string) ([]byte, []byte, error) { return h.Output(argv, nil) })
}

func readShownConfig(output func(argv []string) (stdout, stderr []byte, err error)) (data []byte, source string, err error) {
	var lastErr error
	for _, sub := range showConfigCommands {
		argv := append([]string{"--extra-experimental-features", "nix-command"}, sub...)
		argv = append(argv, "--json")
		out, stderr, err := output(append([]string{"nix"}, argv...))
		if err == nil {
			return out, "nix " + strings.Join(sub, " "), nil
		}
		lastErr = fmt.Errorf("nix %s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(stderr)))
	}
	return nil, "", lastErr
}
