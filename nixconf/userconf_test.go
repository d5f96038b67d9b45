package nixconf

import (
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfSourcesOf(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    map[string]string
		system string
		user   []string
	}{
		{"defaults", map[string]string{"HOME": "/home/ann"}, "/etc/nix/nix.conf",
			[]string{"/etc/xdg/nix/nix.conf", "/home/ann/.config/nix/nix.conf"}},
		{"no HOME: the account's", map[string]string{}, "/etc/nix/nix.conf",
			[]string{"/etc/xdg/nix/nix.conf", "/home/acct/.config/nix/nix.conf"}},
		{"XDG", map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/cfg", "XDG_CONFIG_DIRS": "/a::/b", "NIX_CONF_DIR": "/opt/nix"}, "/opt/nix/nix.conf",
			[]string{"/b/nix/nix.conf", "/a/nix/nix.conf", "/cfg/nix/nix.conf"}},
		{"NIX_CONFIG_HOME", map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/cfg", "NIX_CONFIG_HOME": "/nixcfg", "XDG_CONFIG_DIRS": ""}, "/etc/nix/nix.conf",
			[]string{"/nixcfg/nix.conf"}},
		// NIX_USER_CONF_FILES replaces the list; its first file wins, so
		// Nix applies it last.
		{"NIX_USER_CONF_FILES", map[string]string{"HOME": "/h", "NIX_USER_CONF_FILES": "/one.conf:/two.conf", "XDG_CONFIG_HOME": "/cfg"}, "/etc/nix/nix.conf",
			[]string{"/two.conf", "/one.conf"}},
		{"NIX_USER_CONF_FILES empty", map[string]string{"NIX_USER_CONF_FILES": ""}, "/etc/nix/nix.conf", nil},
	} {
		s := ConfSourcesOf(envOf(c.env), "/home/acct")
		if s.System != c.system || !slices.Equal(s.User, c.user) {
			t.Errorf("%s: system %s, user %q; want %s, %q", c.name, s.System, s.User, c.system, c.user)
		}
	}
	s := ConfSourcesOf(envOf(map[string]string{"NIX_CONFIG": ""}), "/h")
	if !s.NixConfigSet || s.NixConfig != "" {
		t.Errorf("NIX_CONFIG set but empty: %+v", s)
	}
	if s := ConfSourcesOf(envOf(nil), "/h"); s.NixConfigSet {
		t.Errorf("NIX_CONFIG unset: %+v", s)
	}
}

// mapRead reads files from a map; missing ones do not exist.
func mapRead(files map[string]string) ReadFunc {
	return func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
}

func TestCheckUserConf(t *testing.T) {
	system := "/etc/nix/nix.conf"
	home := "/home/ann/.config/nix/nix.conf"
	xdg := "/etc/xdg/nix/nix.conf"
	sysConf := "extra-substituters = https://cache.acme.example\nextra-trusted-public-keys = " + keyAcme1 + "\n"
	src := ConfSources{System: system, User: []string{xdg, home}}

	t.Run("cachix#413", func(t *testing.T) {
		// What cachix use wrote for an untrusted user: plain lines.
		files := map[string]string{system: sysConf, home: "# cachix\nsubstituters = https://cache.nixos.org https://mine.cachix.org\ntrusted-public-keys = " + NixOSCacheKey + " " + keyOther + "\n"}
		u, err := CheckUserConf(src, mapRead(files))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(u.Read, []string{system, home}) {
			t.Errorf("read %q", u.Read)
		}
		if len(u.Replacements) != 2 {
			t.Fatalf("replacements %+v", u.Replacements)
		}
		r := u.Replacements[0]
		if r.Pos != (Pos{home, 2}) || r.Setting != "substituters" || len(r.Dropped) != 1 || r.Dropped[0] != (Item{"https://cache.acme.example", Pos{system, 1}}) {
			t.Errorf("first %+v", r)
		}
		want := home + ":2: plain substituters replaces what the system's nix.conf sets, dropping https://cache.acme.example (/etc/nix/nix.conf:1); write extra-substituters to add to it instead"
		if r.String() != want {
			t.Errorf("message\n%s\nwant\n%s", r, want)
		}
		if r := u.Replacements[1]; r.Pos != (Pos{home, 3}) || r.Setting != "trusted-public-keys" || len(r.Dropped) != 1 || r.Dropped[0].Value != keyAcme1 {
			t.Errorf("second %+v", r)
		}
		if got := u.System.Keys(); !slices.Equal(got, []string{NixOSCacheKey, keyAcme1}) {
			t.Errorf("system keys %q", got)
		}
		if got := u.Effective.Keys(); !slices.Equal(got, []string{NixOSCacheKey, keyOther}) {
			t.Errorf("effective keys %q", got)
		}
	})

	t.Run("extra lines and restated values are fine", func(t *testing.T) {
		files := map[string]string{
			system: sysConf,
			// A plain line that lists the system's value again drops
			// nothing; the default cache.nixos.org is not the system's.
			xdg:  "substituters = https://cache.acme.example https://site.example\n",
			home: "extra-substituters = https://mine.example\nextra-trusted-public-keys = " + keyOther + "\n",
		}
		u, err := CheckUserConf(src, mapRead(files))
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Replacements) != 0 {
			t.Errorf("replacements %+v", u.Replacements)
		}
		if got := u.Effective.SubstituterURLs(); !slices.Equal(got, []string{"https://cache.acme.example", "https://site.example", "https://mine.example"}) {
			t.Errorf("substituters %q", got)
		}
	})

	t.Run("order: the first listed user file wins", func(t *testing.T) {
		// xdg (applied first) drops the system's key; home (applied
		// last) adds it back: nothing lost.
		files := map[string]string{system: sysConf, xdg: "trusted-public-keys = " + keyOther + "\n", home: "extra-trusted-public-keys = " + keyAcme1 + "\n"}
		u, err := CheckUserConf(src, mapRead(files))
		if err != nil || len(u.Replacements) != 0 {
			t.Errorf("%+v, %v", u, err)
		}
		// The other way round, the key is lost.
		files[xdg], files[home] = files[home], files[xdg]
		u, err = CheckUserConf(src, mapRead(files))
		if err != nil || len(u.Replacements) != 1 || u.Replacements[0].Pos.File != home {
			t.Errorf("%+v, %v", u, err)
		}
	})

	t.Run("NIX_CONFIG, includes and aliases", func(t *testing.T) {
		files := map[string]string{system: sysConf, home: "include more.conf\n", "/home/ann/.config/nix/more.conf": "binary-caches = https://mine.example\n"}
		src := src
		src.NixConfig, src.NixConfigSet = "extra-substituters = https://x.example\ntrusted-public-keys = "+keyOther, true
		u, err := CheckUserConf(src, mapRead(files))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(u.Read, []string{system, home, NixConfigName}) {
			t.Errorf("read %q", u.Read)
		}
		if len(u.Replacements) != 2 {
			t.Fatalf("replacements %+v", u.Replacements)
		}
		if r := u.Replacements[0]; r.Pos != (Pos{"/home/ann/.config/nix/more.conf", 1}) || r.Name != "binary-caches" || r.Setting != "substituters" {
			t.Errorf("include: %+v", r)
		}
		if r := u.Replacements[1]; r.Pos != (Pos{NixConfigName, 2}) || r.Setting != "trusted-public-keys" {
			t.Errorf("NIX_CONFIG: %+v", r)
		}
	})

	t.Run("missing and unreadable files are skipped, bad lines are errors", func(t *testing.T) {
		read := func(p string) ([]byte, error) {
			if p == home {
				return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
			}
			return mapRead(map[string]string{system: sysConf})(p)
		}
		u, err := CheckUserConf(src, read)
		if err != nil || !slices.Equal(u.Read, []string{system}) {
			t.Errorf("%+v, %v", u, err)
		}
		_, err = CheckUserConf(src, mapRead(map[string]string{system: sysConf, home: "substituters=x\n"}))
		if err == nil || !strings.Contains(err.Error(), home+":1: illegal configuration line") {
			t.Errorf("error %v", err)
		}
		_, err = CheckUserConf(src, func(p string) ([]byte, error) { return nil, os.ErrDeadlineExceeded })
		if err == nil {
			t.Error("a read error other than missing or denied passed")
		}
	})
}
