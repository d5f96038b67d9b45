package nixconf

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// ConfSources are the configuration inputs of a Nix client, as Nix's
// loadConfFile reads them (Nix 2.8 to 2.26): the system's nix.conf, then
// the user's files, then NIX_CONFIG. Later inputs win; a plain
// "trusted-public-keys = ..." or "substituters = ..." line in a user's file
// replaces everything the system's nix.conf set, extra- lines included
// (cachix#413).
type ConfSources struct {
	// System is $NIX_CONF_DIR/nix.conf (/etc/nix/nix.conf).
	System string
	// User are the user's nix.conf files in the order Nix applies them:
	// the last one wins. Nix lists them the other way round:
	// $NIX_USER_CONF_FILES (":"-separated, first wins) when set, else
	// $XDG_CONFIG_HOME/nix/nix.conf (~/.config/nix/nix.conf), then
	// nix/nix.conf in each of $XDG_CONFIG_DIRS (/etc/xdg).
	User []string
	// NixConfig is NIX_CONFIG's value; Set says it is set.
	NixConfig    string
	NixConfigSet bool
}

// NixConfigName is the name NIX_CONFIG's lines carry in positions, as in
// Nix's messages.
const NixConfigName = "NIX_CONFIG"

// ConfSourcesOf finds the configuration inputs a Nix client with
// environment lookup reads; home is the account's home directory, used
// when HOME is unset. It follows current Nix, which also honours
// NIX_CONFIG_HOME (the directory holding the user's nix.conf, instead of
// $XDG_CONFIG_HOME/nix); Nix 2.8 ignores that variable.
func ConfSourcesOf(lookup func(string) (string, bool), home string) ConfSources {
	confDir := "/etc/nix"
	if d, ok := lookup("NIX_CONF_DIR"); ok && d != "" {
		confDir = d
	}
	s := ConfSources{System: filepath.Join(confDir, "nix.conf")}
	s.NixConfig, s.NixConfigSet = lookup("NIX_CONFIG")

	var listed []string
	if files, ok := lookup("NIX_USER_CONF_FILES"); ok {
		listed = splitPaths(files)
	} else {
		if h, ok := lookup("HOME"); ok {
			home = h
		}
		configHome := filepath.Join(home, ".config", "nix")
		if d, ok := lookup("XDG_CONFIG_HOME"); ok {
			configHome = d + "/nix"
		}
		if d, ok := lookup("NIX_CONFIG_HOME"); ok {
			configHome = d
		}
		dirs := []string{configHome}
		xdgDirs, ok := lookup("XDG_CONFIG_DIRS")
		if !ok {
			xdgDirs = "/etc/xdg"
		}
		for _, d := range splitPaths(xdgDirs) {
			dirs = append(dirs, d+"/nix")
		}
		for _, d := range dirs {
			listed = append(listed, d+"/nix.conf")
		}
	}
	for i := len(listed) - 1; i >= 0; i-- {
		s.User = append(s.User, listed[i])
	}
	return s
}

// splitPaths splits a ":"-separated list as Nix's tokenizeString does:
// empty entries vanish.
func splitPaths(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ":") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Replacement is a plain trusted-public-keys or substituters line (or an
// alias) in a user's configuration that drops values the system's nix.conf
// set: Nix no longer has them in the end.
type Replacement struct {
	// Pos is the plain line; its file is a user's file, a file one of
	// them includes, or NIX_CONFIG.
	Pos Pos `json:"pos"`
	// Setting is the setting's name ("substituters"); Name is the name
	// the line uses, which may be an alias ("binary-caches").
	Setting string `json:"setting"`
	Name    string `json:"name"`
	// Dropped are the system's values that are gone, each with the line
	// that set it.
	Dropped []Item `json:"dropped"`
}

func (r Replacement) String() string {
	var vs []string
	for _, it := range r.Dropped {
		vs = append(vs, fmt.Sprintf("%s (%s)", it.Value, it.Pos))
	}
	return fmt.Sprintf("%s: plain %s replaces what the system's nix.conf sets, dropping %s; write extra-%s to add to it instead",
		r.Pos, r.Name, strings.Join(vs, ", "), r.Setting)
}

// UserConf is what a client's configuration inputs do to trusted keys and
// substituters, file by file.
type UserConf struct {
	Sources ConfSources
	// Read are the inputs Nix reads, in the order it applies them
	// (NixConfigName for NIX_CONFIG); files that do not exist are left
	// out.
	Read []string
	// System are the settings after the system's nix.conf; Effective
	// after every input.
	System, Effective *Settings
	// Replacements are the user's plain lines that drop the system's
	// values (cachix#413), in the order Nix reads them.
	Replacements []Replacement
}

// CheckUserConf evaluates the inputs of src the way Nix loads them and
// finds the user's plain lines that drop values the system's nix.conf
// set. A file that does not exist or cannot be read is skipped, as Nix
// does; a line Nix rejects is an error (Nix would not start).
func CheckUserConf(src ConfSources, read ReadFunc) (*UserConf, error) {
	u := &UserConf{Sources: src}
	e := &evaluator{read: read}
	for _, st := range settings {
		for _, v := range st.def {
			*e.s.list(st) = append(*e.s.list(st), Item{Value: v})
		}
	}
	load := func(path string) error {
		data, err := read(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return nil
			}
			return err
		}
		f, err := Parse(path, data)
		if err != nil {
			return err
		}
		u.Read = append(u.Read, path)
		return e.file(f, nil)
	}
	if err := load(src.System); err != nil {
		return nil, err
	}
	u.System = e.s.clone()

	// Every system value a user's plain line replaced, by line.
	fromSystem := map[Item]bool{}
	for _, it := range slices.Concat(u.System.TrustedPublicKeys, u.System.Substituters) {
		if it.Pos.File != "" {
			fromSystem[it] = true
		}
	}
	var pending []Replacement
	e.beforeReset = func(st *setting, pos Pos, name string, replaced []Item) {
		r := Replacement{Pos: pos, Setting: st.name, Name: name}
		for _, it := range replaced {
			if fromSystem[it] {
				r.Dropped = append(r.Dropped, it)
			}
		}
		if len(r.Dropped) > 0 {
			pending = append(pending, r)
		}
	}
	for _, path := range src.User {
		if err := load(path); err != nil {
			return nil, err
		}
	}
	if src.NixConfigSet {
		f, err := Parse(NixConfigName, []byte(src.NixConfig))
		if err != nil {
			return nil, err
		}
		u.Read = append(u.Read, NixConfigName)
		if err := e.file(f, nil); err != nil {
			return nil, err
		}
	}
	u.Effective = &e.s

	// A system value the user's lines list again is not lost.
	kept := map[string]bool{}
	for _, it := range slices.Concat(u.Effective.TrustedPublicKeys, u.Effective.Substituters) {
		kept[it.Value] = true
	}
	for _, r := range pending {
		r.Dropped = slices.DeleteFunc(r.Dropped, func(it Item) bool { return kept[it.Value] })
		if len(r.Dropped) == 0 {
			continue
		}
		u.Replacements = append(u.Replacements, r)
	}
	return u, nil
}

// clone copies the lists, so that later evaluation does not change them.
func (s *Settings) clone() *Settings {
	return &Settings{
		TrustedPublicKeys: slices.Clone(s.TrustedPublicKeys),
		Substituters:      slices.Clone(s.Substituters),
		shown:             s.shown,
	}
}
