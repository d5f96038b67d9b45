package nixconf

import (
	"fmt"
	"io/fs"
	"path"
	"testing"

	"github.com/keyform/keyform/internal/synthetic"
)

// BenchmarkParsePatch parses a generated nix.conf (long key lists,
// comments, an !include of a tenth of its size, and keyform's block from
// an earlier apply) and patches it for a target of the large generated
// policy: 270 keys to trust, 1,000 retired keys to remove (three of which
// the files trust), three substituters. Time should grow linearly with
// the file size; 10 MB is the size BENCHMARKS.md reports.
func BenchmarkParsePatch(b *testing.B) {
	want := Want{Target: "nixconf.t00003"}
	for i := range 270 {
		want.Keys = append(want.Keys, fmt.Sprintf("cache%04d.example.org-%d:%042dA=", i%3, i, i))
	}
	want.Retired = synthetic.RetiredKeys()
	for i := range 1000 - len(want.Retired) {
		want.Retired = append(want.Retired, fmt.Sprintf("retired%d.example.org-1:%042dA=", i, i))
	}
	for i := range 3 {
		want.Substituters = append(want.Substituters, fmt.Sprintf("https://cache%04d.example.org", i))
	}
	type variant struct {
		name    string
		size    int
		wipeEnd bool // a plain trusted-public-keys line at the end wipes every extra- line above it
	}
	for _, v := range []variant{{"size=100KiB", 100 << 10, false}, {"size=1024KiB", 1 << 20, false}, {"size=10240KiB", 10 << 20, false}, {"size=10240KiB/wiped", 10 << 20, true}} {
		files := synthetic.NixConfFiles(v.size, 1)
		if v.wipeEnd {
			files["nix.conf"] = append(files["nix.conf"], "trusted-public-keys = "+NixOSCacheKey+"\n"...)
		}
		read := func(p string) ([]byte, error) {
			if b, ok := files[path.Base(p)]; ok && path.Dir(p) == "/etc/nix" {
				return b, nil
			}
			return nil, fs.ErrNotExist
		}
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(files["nix.conf"]) + len(files[synthetic.NixConfInclude])))
			var ch *Change
			for b.Loop() {
				f, err := Parse("/etc/nix/nix.conf", files["nix.conf"])
				if err != nil {
					b.Fatal(err)
				}
				if _, ch, err = Patch(f, want, read); err != nil {
					b.Fatal(err)
				}
			}
			// Two retired keys are in nix.conf; the third, in the
			// include, is a conflict keyform reports but does not edit
			// (unless the last line wipes it, and moves keyform's block).
			conflicts, moved := 1, 0
			if v.wipeEnd {
				conflicts, moved = 0, 1
			}
			if len(ch.RemovedKeys) != 2 || len(ch.AddedKeys) != len(want.Keys) || len(ch.Conflicts) != conflicts || len(ch.Moved) != moved {
				b.Fatalf("removed %d keys, added %d, %d conflicts, %d moved; want 2, %d, %d, %d", len(ch.RemovedKeys), len(ch.AddedKeys), len(ch.Conflicts), len(ch.Moved), len(want.Keys), conflicts, moved)
			}
		})
	}
}
