package nixconf

import (
	"io/fs"
	"testing"
)

// FuzzPatch patches arbitrary nix.conf text (with an arbitrary included
// file, inc.conf) and checks the properties of checkProperties: idempotent,
// other lines untouched, effective keys = (before − retired) ∪ active.
func FuzzPatch(f *testing.F) {
	for i, seed := range corpusSeeds(f) {
		f.Add(seed, []byte("extra-trusted-public-keys = "+keyAcme0+"\n"), uint8(i))
	}
	f.Add([]byte("# Managed by keyform (target nixconf.ci): x\nextra-trusted-public-keys = k:A\ntrusted-public-keys = a:B\ninclude inc.conf\n"), []byte("trusted-public-keys = c:C\n"), uint8(3))
	f.Fuzz(func(t *testing.T, data, inc []byte, sel uint8) {
		file, err := Parse("/etc/nix/nix.conf", data)
		if err != nil {
			return
		}
		read := func(p string) ([]byte, error) {
			if p == "/etc/nix/inc.conf" {
				return inc, nil
			}
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		if _, err := Evaluate(read, file); err != nil {
			return // Nix would not load it either
		}
		// sel picks which keys are active, retired or neither, so
		// the patcher meets every mix.
		pool := []string{keyAcme0, keyAcme1, keyAcme2, keyOther, "k:A", "a:B"}
		want := Want{Target: "nixconf.ci"}
		for i, k := range pool {
			switch (int(sel) >> (i % 4)) % 3 {
			case 1:
				want.Keys = append(want.Keys, k)
			case 2:
				want.Retired = append(want.Retired, k)
			}
		}
		if sel&1 == 1 {
			want.Substituters = []string{"https://cache.acme.example"}
		}
		g, ch, err := Patch(file, want, read)
		if err != nil {
			t.Fatalf("patch: %v", err)
		}
		checkProperties(t, want, read, file, ch, g.Bytes())
	})
}
