package binarycache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Netrc holds credentials by host from a netrc file, the format Nix's
// netrc-file setting names (default /etc/nix/netrc) and curl reads:
//
//	machine cache.example.org login USER password PASS
//	default login USER password PASS
//
// Tokens are separated by any whitespace; "account" is ignored; a
// "macdef" runs to the next empty line and is skipped; lines whose first
// token starts with '#' are comments. The first entry for a host wins,
// "default" applies to hosts with no entry.
//
// A Netrc prints as a count of entries only: credentials never reach a
// message.
type Netrc struct {
	entries []netrcEntry
}

type netrcEntry struct {
	machine         string // "" for default
	login, password string
}

// String never shows credentials.
func (n *Netrc) String() string { return fmt.Sprintf("netrc(%d entries)", len(n.entries)) }

// GoString never shows credentials.
func (n *Netrc) GoString() string { return n.String() }

// DefaultNetrcFile is Nix's default netrc-file: $NIX_CONF_DIR/netrc,
// /etc/nix/netrc when NIX_CONF_DIR is unset.
func DefaultNetrcFile() string {
	dir := os.Getenv("NIX_CONF_DIR")
	if dir == "" {
		dir = "/etc/nix"
	}
	return strings.TrimRight(dir, "/") + "/netrc"
}

// LoadNetrc reads a netrc file. A missing file is no credentials (nil,
// nil), as for Nix.
func LoadNetrc(path string) (*Netrc, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return nil, fmt.Errorf("netrc file %s is not a regular file of at most 1 MiB", path)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	n, err := ParseNetrc(string(text))
	if err != nil {
		return nil, fmt.Errorf("netrc file %s: %w", path, err)
	}
	return n, nil
}

// ParseNetrc parses netrc text. Errors name the token's position and
// keyword, never a value.
func ParseNetrc(text string) (*Netrc, error) {
	n := &Netrc{}
	cur := -1 // index of the entry being filled
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		toks := strings.Fields(lines[i])
		if len(toks) > 0 && strings.HasPrefix(toks[0], "#") {
			continue
		}
		for j := 0; j < len(toks); j++ {
			value := func() (string, error) {
				if j+1 >= len(toks) {
					return "", fmt.Errorf("line %d: %q needs a value on the same line", i+1, toks[j])
				}
				j++
				return toks[j], nil
			}
			switch toks[j] {
			case "machine":
				host, err := value()
				if err != nil {
					return nil, err
				}
				n.entries = append(n.entries, netrcEntry{machine: host})
				cur = len(n.entries) - 1
			case "default":
				n.entries = append(n.entries, netrcEntry{})
				cur = len(n.entries) - 1
			case "login", "password", "account":
				kw := toks[j]
				v, err := value()
				if err != nil {
					return nil, err
				}
				if cur < 0 {
					return nil, fmt.Errorf("line %d: %q before any machine or default", i+1, kw)
				}
				switch kw {
				case "login":
					n.entries[cur].login = v
				case "password":
					n.entries[cur].password = v
				}
			case "macdef":
				// Skip the macro body: up to the next empty line.
				for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
					i++
				}
				j = len(toks)
			default:
				return nil, fmt.Errorf("line %d: unknown netrc keyword (expected machine, default, login, password, account or macdef)", i+1)
			}
		}
	}
	return n, nil
}

// Lookup returns the credentials for host (a host name without port):
// the first "machine host" entry, else the "default" entry.
func (n *Netrc) Lookup(host string) (login, password string, ok bool) {
	if n == nil {
		return "", "", false
	}
	var def *netrcEntry
	for i := range n.entries {
		e := &n.entries[i]
		if e.machine == "" {
			if def == nil {
				def = e
			}
			continue
		}
		if strings.EqualFold(e.machine, host) {
			return e.login, e.password, true
		}
	}
	if def != nil {
		return def.login, def.password, true
	}
	return "", "", false
}
