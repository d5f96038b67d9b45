package binarycache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/cachegen"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

func genCache(t testing.TB, n int) (string, []cachegen.Path) {
	t.Helper()
	dir := t.TempDir()
	ps, err := cachegen.Generate(dir, cachegen.Options{Paths: n, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return dir, ps
}

func hashes(ps []cachegen.Path) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Hash)
	}
	slices.Sort(out)
	return out
}

// walkAll returns the hashes Walk hands over, sorted.
func walkAll(t *testing.T, s Store, o WalkOptions) ([]string, WalkStats) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	st, err := Walk(context.Background(), s, o, func(w int, e *Entry) error {
		if e.Err == nil && !strings.Contains(string(e.Data), "StorePath: /nix/store/"+e.Hash+"-") {
			return fmt.Errorf("entry %s holds %q", e.Hash, e.Data)
		}
		mu.Lock()
		got = append(got, e.Hash)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got, st
}

func TestFileStoreListsEveryNarinfo(t *testing.T) {
	dir, ps := genCache(t, 2500) // more than one Readdirnames batch
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "tooshort.narinfo"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "nar"), 0o755)
	for _, url := range []string{"file://" + dir, dir, "file://" + dir + "?compression=none"} {
		s, err := Open(context.Background(), url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Info().StoreDir != "/nix/store" || s.URL() != "file://"+dir {
			t.Fatalf("info %+v url %s", s.Info(), s.URL())
		}
		got, st := walkAll(t, s, WalkOptions{Jobs: 3})
		if !slices.Equal(got, hashes(ps)) || st.Requested != 2500 || st.Read != 2500 {
			t.Fatalf("walked %d of %d (stats %+v)", len(got), len(ps), st)
		}
	}
}

func TestFileStoreRefuses(t *testing.T) {
	dir, _ := genCache(t, 1)
	fifo := filepath.Join(dir, strings.Repeat("0", 32)+".narinfo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("1", 32)
	os.WriteFile(filepath.Join(dir, big+".narinfo"), make([]byte, 2000), 0o644)
	s, err := OpenFile(dir, Options{MaxNarinfoSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ hash, want string }{
		{strings.Repeat("0", 32), "named pipe"},
		{big, "more than the limit of 1000"},
	} {
		_, _, err := s.Get(context.Background(), c.hash, nil)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Get(%s) = %v, want ErrRefused saying %q", c.hash, err, c.want)
		}
	}
	if _, _, err := s.Get(context.Background(), strings.Repeat("2", 32), nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing narinfo: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	empty := t.TempDir()
	for _, c := range []struct{ url, want string }{
		{"file://" + empty, "has no nix-cache-info"},
		{"file://" + empty + "/missing", "no such file"},
		{"file://host/dir", "three slashes"},
		{"s3://bucket", "not supported yet"},
		{"ssh://host", "keyform reads file:///dir"},
		{"http://127.0.0.1:1", "not reachable"},
	} {
		_, err := Open(context.Background(), c.url, Options{HTTP: HTTPOptions{Attempts: 1}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%s) = %v, want %q", c.url, err, c.want)
		}
	}
}

func TestReplace(t *testing.T) {
	dir, ps := genCache(t, 1)
	s, _ := OpenFile(dir, Options{})
	file := s.NarinfoPath(ps[0].Hash)
	os.Chmod(file, 0o604)
	if err := s.Replace(ps[0].Hash, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(file)
	fi, _ := os.Stat(file)
	if string(b) != "new\n" || fi.Mode().Perm() != 0o604 {
		t.Fatalf("%q %v", b, fi.Mode())
	}
}

func TestHashOf(t *testing.T) {
	h := "0c6kzph7l0dcbfmjap64f0czdafn3b7x"
	for _, in := range []string{h, h + "-hello-2.12", "/nix/store/" + h + "-hello-2.12", "/other/store/" + h + "-x", h + ".narinfo"} {
		if got, err := HashOf(in); got != h || err != nil {
			t.Errorf("HashOf(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", h[:31], h + "-", h + "x", "/nix/store/" + h + "-x/bin/hello", strings.ToUpper(h), "e" + h[1:], "/nix/store/" + h + ".narinfo"} {
		if got, err := HashOf(in); err == nil {
			t.Errorf("HashOf(%q) = %q, want an error", in, got)
		}
	}
	err := ReadHashes(strings.NewReader(h+"\n\n  garbage  \n"), func(string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "paths line 3") {
		t.Errorf("ReadHashes: %v", err)
	}
	err = ReadHashes(strings.NewReader(strings.Repeat("x", maxPathLine+1)), func(string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("ReadHashes(long line): %v", err)
	}
}

func FuzzHashOf(f *testing.F) {
	f.Add("/nix/store/0c6kzph7l0dcbfmjap64f0czdafn3b7x-hello")
	f.Add("0c6kzph7l0dcbfmjap64f0czdafn3b7x.narinfo")
	f.Fuzz(func(t *testing.T, in string) {
		h, err := HashOf(in)
		if err != nil {
			if len(err.Error()) > 300 {
				t.Fatalf("long error: %d bytes", len(err.Error()))
			}
			return
		}
		if !validHash(h) || !strings.Contains(in, h) {
			t.Fatalf("HashOf(%q) = %q", in, h)
		}
	})
}

func TestNetrc(t *testing.T) {
	n, err := ParseNetrc("# comment\nmachine cache.example.org login alice password s3cret\n" +
		"macdef init\ncd /pub\n\nmachine other.example.org\n  login bob\n  password hunter2 account x\ndefault login anon password guest\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ host, login, password string }{
		{"cache.example.org", "alice", "s3cret"},
		{"OTHER.example.org", "bob", "hunter2"},
		{"elsewhere", "anon", "guest"},
	} {
		l, p, ok := n.Lookup(c.host)
		if !ok || l != c.login || p != c.password {
			t.Errorf("Lookup(%s) = %s %s %v", c.host, l, p, ok)
		}
	}
	for _, v := range []string{fmt.Sprint(n), fmt.Sprintf("%v %+v %#v %s", n, n, n, n)} {
		if strings.Contains(v, "s3cret") || strings.Contains(v, "hunter2") {
			t.Fatalf("netrc prints credentials: %s", v)
		}
	}
	for _, bad := range []string{"login x", "machine", "machine h login", "machine h frobnicate secretvalue"} {
		_, err := ParseNetrc(bad)
		if err == nil {
			t.Errorf("ParseNetrc(%q) succeeded", bad)
		} else if strings.Contains(err.Error(), "secretvalue") {
			t.Errorf("error echoes a value: %v", err)
		}
	}
	if n, err := LoadNetrc(filepath.Join(t.TempDir(), "none")); n != nil || err != nil {
		t.Fatalf("missing netrc: %v %v", n, err)
	}
}

func FuzzParseNetrc(f *testing.F) {
	f.Add("machine h login l password p\ndefault login a password b\n")
	f.Add("macdef x\nbody\n\nmachine h")
	f.Fuzz(func(t *testing.T, in string) {
		n, err := ParseNetrc(in)
		if err != nil {
			return
		}
		n.Lookup("h")
	})
}

// fakeCache serves narinfos from dir like a binary cache, with faults
// injected by handler hooks. It counts requests per path.
type fakeCache struct {
	dir   string
	hits  sync.Map // path -> *atomic.Int64
	fault func(w http.ResponseWriter, r *http.Request, hit int64) bool
}

func (c *fakeCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, _ := c.hits.LoadOrStore(r.URL.Path, new(atomic.Int64))
	hit := v.(*atomic.Int64).Add(1)
	if c.fault != nil && c.fault(w, r, hit) {
		return
	}
	http.ServeFile(w, r, filepath.Join(c.dir, filepath.Base(r.URL.Path)))
}

func (c *fakeCache) count(p string) int64 {
	v, ok := c.hits.Load(p)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

var fastRetries = HTTPOptions{Attempts: 4, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: 2 * time.Second}

func openFake(t *testing.T, c *fakeCache, o HTTPOptions) (*HTTPStore, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	s, err := OpenHTTP(context.Background(), u, Options{HTTP: o})
	if err != nil {
		t.Fatal(err)
	}
	return s, srv
}

func pathsList(ps []cachegen.Path) io.Reader {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.StorePath + "\n")
	}
	return strings.NewReader(b.String())
}

func TestHTTPWalk(t *testing.T) {
	dir, ps := genCache(t, 200)
	c := &fakeCache{dir: dir}
	s, _ := openFake(t, c, fastRetries)
	missing := cachegen.Path{StorePath: "/nix/store/" + strings.Repeat("a", 32) + "-gone"}
	list := append(slices.Clone(ps), missing, ps[0])
	got, st := walkAll(t, s, WalkOptions{Jobs: 8, Paths: pathsList(list)})
	if !slices.Equal(got, hashes(ps)) || st.NotFound != 1 || st.Duplicates != 1 || st.Requested != 201 {
		t.Fatalf("walked %d, stats %+v", len(got), st)
	}
	if err := s.List(context.Background(), nil); !errors.Is(err, ErrNotListable) {
		t.Fatalf("List: %v", err)
	}
	if _, err := Walk(context.Background(), s, WalkOptions{}, nil); !errors.Is(err, ErrNotListable) {
		t.Fatalf("Walk without paths: %v", err)
	}
}

func TestHTTPRetries(t *testing.T) {
	dir, ps := genCache(t, 3)
	target := "/" + ps[0].Hash + ".narinfo"
	for _, c := range []struct {
		name  string
		fault func(w http.ResponseWriter, r *http.Request, hit int64) bool
		hits  int64 // requests of target
		err   string
	}{
		{"500_then_ok", func(w http.ResponseWriter, r *http.Request, hit int64) bool {
			if r.URL.Path == target && hit <= 2 {
				w.WriteHeader(500)
				return true
			}
			return false
		}, 3, ""},
		{"503_retry_after", func(w http.ResponseWriter, r *http.Request, hit int64) bool {
			if r.URL.Path == target && hit == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(503)
				return true
			}
			return false
		}, 2, ""},
		{"always_500", func(w http.ResponseWriter, r *http.Request, hit int64) bool {
			if r.URL.Path == target {
				w.WriteHeader(500)
				return true
			}
			return false
		}, 4, "HTTP 500"},
		{"truncated_then_ok", func(w http.ResponseWriter, r *http.Request, hit int64) bool {
			if r.URL.Path == target && hit == 1 {
				w.Header().Set("Content-Length", "1500")
				w.WriteHeader(200)
				w.Write([]byte("StorePath: /nix/st"))
				hj, _ := w.(http.Hijacker)
				conn, _, _ := hj.Hijack()
				conn.Close()
				return true
			}
			return false
		}, 2, ""},
		{"reset_then_ok", func(w http.ResponseWriter, r *http.Request, hit int64) bool {
			if r.URL.Path == target && hit == 1 {
				hj, _ := w.(http.Hijacker)
				conn, _, _ := hj.Hijack()
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
				return true
			}
			return false
		}, 2, ""},
		{"slow_body_then_ok", func(w http.ResponseWriter, r *http.Request, hit int64) bool {
			if r.URL.Path == target && hit == 1 {
				w.Header().Set("Content-Length", "1500")
				w.WriteHeader(200)
				w.Write([]byte("StorePath: "))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return true
			}
			return false
		}, 2, ""},
		{"401_final", func(w http.ResponseWriter, r *http.Request, hit int64) bool {
			if r.URL.Path == target {
				w.WriteHeader(401)
				return true
			}
			return false
		}, 1, "netrc"},
		{"too_large", func(w http.ResponseWriter, r *http.Request, hit int64) bool {
			if r.URL.Path == target {
				w.Write(make([]byte, 3000))
				return true
			}
			return false
		}, 1, "refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fc := &fakeCache{dir: dir, fault: c.fault}
			o := fastRetries
			o.Timeout = 300 * time.Millisecond
			srv := httptest.NewServer(fc)
			defer srv.Close()
			u, _ := url.Parse(srv.URL)
			s, err := OpenHTTP(context.Background(), u, Options{HTTP: o, MaxNarinfoSize: 2000})
			if err != nil {
				t.Fatal(err)
			}
			var refused error
			_, err = Walk(context.Background(), s, WalkOptions{Jobs: 2, Paths: pathsList(ps)}, func(w int, e *Entry) error {
				if e.Err != nil {
					refused = e.Err
				}
				return nil
			})
			if refused != nil {
				err = fmt.Errorf("refused: %w", refused)
			}
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("walk: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("walk error %v, want one saying %q", err, c.err)
			}
			if got := fc.count(target); got != c.hits {
				t.Fatalf("%d requests for the narinfo, want %d", got, c.hits)
			}
		})
	}
}

func TestHTTPNotFoundStatuses(t *testing.T) {
	dir, ps := genCache(t, 3)
	fc := &fakeCache{dir: dir, fault: func(w http.ResponseWriter, r *http.Request, hit int64) bool {
		switch r.URL.Path {
		case "/" + ps[0].Hash + ".narinfo":
			w.WriteHeader(403)
		case "/" + ps[1].Hash + ".narinfo":
			w.WriteHeader(410)
		default:
			return false
		}
		return true
	}}
	s, _ := openFake(t, fc, fastRetries)
	got, st := walkAll(t, s, WalkOptions{Paths: pathsList(ps)})
	if len(got) != 1 || st.NotFound != 2 {
		t.Fatalf("got %v, stats %+v", got, st)
	}
	if fc.count("/"+ps[0].Hash+".narinfo") != 1 {
		t.Fatal("403 was retried")
	}
}

func TestHTTPCredentials(t *testing.T) {
	dir, ps := genCache(t, 2)
	var sawAuth atomic.Int64
	fc := &fakeCache{dir: dir, fault: func(w http.ResponseWriter, r *http.Request, hit int64) bool {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "alice" || pass != "s3cret" {
			w.WriteHeader(401)
			return true
		}
		sawAuth.Add(1)
		return false
	}}
	srv := httptest.NewServer(fc)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	netrc, _ := ParseNetrc("machine " + u.Hostname() + " login alice password s3cret\n")
	s, err := OpenHTTP(context.Background(), u, Options{HTTP: HTTPOptions{Netrc: netrc}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := walkAll(t, s, WalkOptions{Paths: pathsList(ps)})
	if len(got) != 2 || sawAuth.Load() != 3 {
		t.Fatalf("got %d narinfos, %d authenticated requests", len(got), sawAuth.Load())
	}
	// Credentials in the URL work and never show in URL() or errors.
	withUser := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1)
	s2, err := Open(context.Background(), withUser, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s2.URL(), "s3cret") {
		t.Fatalf("URL shows the password: %s", s2.URL())
	}
	wrong := strings.Replace(srv.URL, "http://", "http://alice:wrongpass@", 1)
	_, err = Open(context.Background(), wrong, Options{HTTP: fastRetries})
	if err == nil || strings.Contains(err.Error(), "wrongpass") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Open with a wrong password: %v", err)
	}
	if r := Redact("https://u:p@h/x?secret-key=/k"); r != "https://h/x" {
		t.Fatalf("Redact = %s", r)
	}
}

// Memory of a walk does not grow with the number of narinfos: the
// difference in live heap between 2,000 and 20,000 paths stays small.
func TestWalkMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 20,000 narinfos")
	}
	dir, _ := genCache(t, 20000)
	s, _ := OpenFile(dir, Options{})
	var peak atomic.Uint64
	var n atomic.Int64
	_, err := Walk(context.Background(), s, WalkOptions{Jobs: 4}, func(w int, e *Entry) error {
		if n.Add(1)%2000 == 0 {
			var ms runtimeMem
			peak.Store(max(peak.Load(), ms.heapInUse()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 64<<20 {
		t.Fatalf("heap in use reached %d MiB while walking 20,000 narinfos", p>>20)
	}
}
