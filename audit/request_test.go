package audit

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/policy"
)

// TestRequestJobs: the keys of each selected catalog are involved before
// any refusal, --store needs one catalog, --record one store per catalog,
// and HTTP caches a paths list.
func TestRequestJobs(t *testing.T) {
	p := cachesPolicy("file:///srv/acme")
	p.Keys = []*policy.Key{{Label: "a1", Catalog: "acme"}, {Label: "w1", Catalog: "web"}, {Label: "a2", Catalog: "acme"}}
	for _, c := range []struct {
		name     string
		r        Request
		involved []string
		jobs     []Job
		err      error
	}{
		{"every catalog with a cache", Request{Paths: "paths.txt"}, []string{"a1", "a2", "w1"},
			[]Job{{"acme", "file:///srv/acme"}, {"web", "https://a.example"}, {"web", "https://b.example"}}, nil},
		{"store for one catalog", Request{Catalogs: []string{"bare"}, Store: "file:///x"}, nil, []Job{{"bare", "file:///x"}}, nil},
		{"store for two catalogs", Request{Catalogs: []string{"acme", "web"}, Store: "file:///x"}, []string{"a1", "a2", "w1"}, nil, ErrStoreOneCatalog},
		{"record two stores", Request{Catalogs: []string{"web"}, Paths: "p", Record: true}, []string{"w1"}, nil, nil},
		{"HTTP without paths", Request{Catalogs: []string{"web"}}, []string{"w1"}, nil, ErrNotListed},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s report.Log
			var involved []string
			jobs, err := c.r.Jobs(&s, p, func(ks ...*policy.Key) {
				for _, k := range ks {
					involved = append(involved, k.Label)
				}
			})
			if c.name == "record two stores" {
				if err == nil || err.Error() != "--record keeps one store per catalog, and catalog web has several substituters" {
					t.Errorf("err = %v", err)
				}
			} else if !errors.Is(err, c.err) {
				t.Errorf("err = %v, want %v", err, c.err)
			}
			if c.err == nil && err == nil && !slices.Equal(jobs, c.jobs) {
				t.Errorf("jobs = %v, want %v", jobs, c.jobs)
			}
			if !slices.Equal(involved, c.involved) {
				t.Errorf("involved %v, want %v", involved, c.involved)
			}
		})
	}
}

// TestRecordAllAndVerdict: each report is recorded under audit/, and the
// verdict tells problems from malformed narinfos.
func TestRecordAllAndVerdict(t *testing.T) {
	dir := t.TempDir()
	ok := &Report{Catalog: "acme", Store: "file:///srv/acme", Paths: 2, Covered: 2}
	unsigned := &Report{Catalog: "web", Store: "https://a.example", Paths: 2, Covered: 1, Unsigned: 1}
	var s report.Log
	if err := RecordAll(&s, dir, []*Report{ok, unsigned}, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"recorded audit/acme.json", "recorded audit/web.json"}; !slices.Equal(s, want) {
		t.Errorf("said %q, want %q", s, want)
	}
	if sum, err := ReadRecord(dir, "web"); err != nil || sum.Unsigned != 1 || sum.Date != "2026-11-25" {
		t.Errorf("ReadRecord(web) = %+v, %v", sum, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "audit", "x.json"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "audit"), 0o500); err == nil && os.Geteuid() != 0 {
		if err := RecordAll(&s, dir, []*Report{{Catalog: "new"}}, time.Now()); err == nil || !errors.Is(err, os.ErrPermission) {
			t.Errorf("RecordAll into a read-only directory = %v", err)
		}
	}

	if p, err := Verdict([]*Report{ok}); p || err != nil {
		t.Errorf("Verdict(ok) = %v, %v", p, err)
	}
	if p, err := Verdict([]*Report{ok, unsigned}); !p || err != nil {
		t.Errorf("Verdict(unsigned) = %v, %v", p, err)
	}
	_, err := Verdict([]*Report{unsigned, {Malformed: 1}})
	if err == nil || err.Error() != "1 malformed narinfo could not be checked" {
		t.Errorf("Verdict(1 malformed) = %v", err)
	}
	if _, err := Verdict([]*Report{{Malformed: 2}, {Malformed: 1}}); err == nil || err.Error() != "3 malformed narinfos could not be checked" {
		t.Errorf("Verdict(3 malformed) = %v", err)
	}
}

// TestRequestRun: --examples 0 lists no paths, N at most N per problem.
func TestRequestRun(t *testing.T) {
	c := newMixedCache(t)
	p := &policy.Policy{Catalogs: []*policy.Catalog{{Label: "acme", Substituters: []string{"file://" + c.dir}}}, Keys: c.keys(policy.Retired)}
	jobs := []Job{{"acme", "file://" + c.dir}}
	none, err := Request{}.Run(p, jobs, Access{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	one, err := Request{Examples: 1}.Run(p, jobs, Access{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if none[0].Unsigned == 0 || len(none[0].Examples.Unsigned) != 0 {
		t.Errorf("--examples 0: %d unsigned, examples %q", none[0].Unsigned, none[0].Examples.Unsigned)
	}
	if len(one[0].Examples.Unsigned) != 1 {
		t.Errorf("--examples 1: examples %q", one[0].Examples.Unsigned)
	}
}

// TestFormat: --format's names.
func TestFormat(t *testing.T) {
	for _, name := range []string{"text", "json"} {
		if _, ok := Format(name); !ok {
			t.Errorf("Format(%q) refused", name)
		}
	}
	var text, js strings.Builder
	r := []*Report{{Catalog: "acme", Store: "file:///c", Keys: map[string]*KeyReport{}}}
	wt, _ := Format("text")
	wj, _ := Format("json")
	if wt(&text, r) != nil || wj(&js, r) != nil || !strings.HasPrefix(js.String(), "{") || strings.HasPrefix(text.String(), "{") {
		t.Errorf("text %q, json %q", text.String(), js.String())
	}
	if _, ok := Format("yaml"); ok {
		t.Error("Format(yaml) accepted")
	}
}
