package nixconf

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
)

func capturedJSON(keys ...string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(fmt.Sprintf(`{"substituters":{"value":["https://cache.acme.example"]},"trusted-public-keys":{"value":["%s"]}}`, strings.Join(keys, `","`)))}
}

func TestCheckFleet(t *testing.T) {
	want := Want{Keys: []string{keyAcme1, keyAcme2}, Retired: []string{keyAcme0}, Substituters: []string{"https://cache.acme.example"}}
	fsys := fstest.MapFS{
		"a.json":      capturedJSON(keyAcme1, keyAcme2),
		"b.txt":       {Data: []byte("substituters =\ntrusted-public-keys = " + keyAcme0 + " " + keyAcme1 + "\n")},
		"c.json":      capturedJSON(keyAcme1Clash, keyAcme1, keyAcme2, keyAcme0, "bad"),
		"d.json":      {Data: []byte("{")},
		"e.json":      capturedJSON(keyAcme1, keyAcme2),
		"e.txt":       {Data: []byte("trusted-public-keys =\n")},
		"big.json":    {Data: make([]byte, MaxShownConfigSize+1)},
		"notes.md":    {Data: []byte("x")},
		".json":       {Data: []byte("x")},
		"dir/x.json":  capturedJSON(),
		".hidden.txt": {Data: []byte("x")},
	}
	f, err := CheckFleet(fsys, want)
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, h := range f.Hosts {
		hosts = append(hosts, h.Host)
	}
	if !slices.Equal(hosts, []string{"a", "b", "big", "c", "d", "e"}) || !slices.Equal(f.Skipped, []string{"dir", "notes.md"}) {
		t.Errorf("hosts %q, skipped %q", hosts, f.Skipped)
	}
	errs := map[string]string{"big": "big.json: larger than 16 MiB", "d": "d.json: invalid JSON", "e": "e.json and e.txt both describe host e"}
	for _, h := range f.Hosts {
		switch {
		case errs[h.Host] != "":
			if h.Err == nil || !strings.Contains(h.Err.Error(), errs[h.Host]) {
				t.Errorf("%s: error %v, want %q", h.Host, h.Err, errs[h.Host])
			}
		case h.Err != nil:
			t.Errorf("%s: %v", h.Host, h.Err)
		}
	}
	if f.OK() || f.Unreadable() != 3 {
		t.Errorf("OK %v, unreadable %d", f.OK(), f.Unreadable())
	}
	lag := f.Lag
	ok := len(lag.RetiredTrusted) == 1 && lag.RetiredTrusted[0].Key == keyAcme0 && slices.Equal(lag.RetiredTrusted[0].Hosts, []string{"b", "c"}) &&
		// c trusts acme_1, but after another key of its name.
		len(lag.ActiveMissing) == 2 && slices.Equal(lag.ActiveMissing[0].Hosts, []string{"c"}) && lag.ActiveMissing[1].Key == keyAcme2 && slices.Equal(lag.ActiveMissing[1].Hosts, []string{"b"}) &&
		len(lag.SubstitutersMissing) == 1 && slices.Equal(lag.SubstitutersMissing[0].Hosts, []string{"b"}) &&
		slices.Equal(lag.Invalid, []string{"c"})
	if !ok {
		t.Errorf("lag %+v", lag)
	}

	good, err := CheckFleet(fstest.MapFS{"a.json": capturedJSON(keyAcme1, keyAcme2)}, want)
	if err != nil || !good.OK() || len(good.Lag.ActiveMissing)+len(good.Lag.RetiredTrusted)+len(good.Lag.SubstitutersMissing) != 0 {
		t.Errorf("good fleet: %+v, %v", good, err)
	}
	if _, err := CheckFleet(fstest.MapFS{"notes.md": {}}, want); err == nil || !strings.Contains(err.Error(), "no HOST.json or HOST.txt") {
		t.Errorf("empty: %v", err)
	}
	many := fstest.MapFS{}
	for i := range MaxFleetHosts + 1 {
		many[fmt.Sprintf("h%d.txt", i)] = &fstest.MapFile{}
	}
	if _, err := CheckFleet(many, want); err == nil || !strings.Contains(err.Error(), "more than the 10000") {
		t.Errorf("too many: %v", err)
	}
}

// A named pipe among the captured files is reported, not read: reading it
// would block verify forever.
func TestCheckFleetRefusesPipes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.json"), capturedJSON(keyAcme1).Data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "b.json"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	f, err := CheckFleet(os.DirFS(dir), Want{Keys: []string{keyAcme1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Hosts) != 2 || f.Hosts[0].Err != nil || f.Hosts[1].Err == nil || !strings.Contains(f.Hosts[1].Err.Error(), "not a regular file") {
		t.Errorf("hosts %+v", f.Hosts)
	}
}
