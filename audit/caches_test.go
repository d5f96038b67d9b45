package audit

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/report"
	"github.com/keyform/keyform/policy"
)

// progressLine records the updates and clears of a progress line.
type progressLine struct{ updates, dones int }

func (p *progressLine) Update(string, ...any) { p.updates++ }
func (p *progressLine) Done()                 { p.dones++ }

func cachesPolicy(acmeStores ...string) *policy.Policy {
	return &policy.Policy{Catalogs: []*policy.Catalog{
		{Label: "acme", Substituters: acmeStores},
		{Label: "bare"},
		{Label: "web", Substituters: []string{"https://a.example", "https://b.example"}},
	}}
}

func TestSelectCatalogs(t *testing.T) {
	p := cachesPolicy("file:///srv/acme")
	for _, c := range []struct {
		names []string
		store string
		want  string
		said  string
	}{
		{nil, "", "[acme web]", "[note: catalog bare has no substituter; not audited]"},
		{nil, "file:///x", "[acme bare web]", "[]"},
		{[]string{"web", "acme", "web"}, "", "[web acme]", "[]"},
		{[]string{"bare"}, "", "[bare]", "[]"},
	} {
		var s report.Log
		got, err := SelectCatalogs(&s, p, c.names, c.store)
		if err != nil || fmt.Sprint(got) != c.want || fmt.Sprint([]string(s)) != c.said {
			t.Errorf("%v %q: %v %v, said %q", c.names, c.store, got, err, s)
		}
	}
	_, err := SelectCatalogs(new(report.Log), p, []string{"nope"}, "")
	if err == nil || err.Error() != `no catalog named "nope"` || hint.Of(err) != "catalogs: acme, bare, web" {
		t.Errorf("unknown catalog: %v (%s)", err, hint.Of(err))
	}
}

func TestJobs(t *testing.T) {
	p := cachesPolicy("file:///srv/acme")
	jobs, err := Jobs(p, []string{"acme", "web"}, "")
	if err != nil || fmt.Sprint(jobs) != "[{acme file:///srv/acme} {web https://a.example} {web https://b.example}]" {
		t.Errorf("jobs %v %v", jobs, err)
	}
	if err := CheckRecordable(jobs); err == nil || !strings.Contains(err.Error(), "catalog web has several substituters") || hint.Of(err) != "pass --store URL" {
		t.Errorf("CheckRecordable: %v", err)
	}
	if err := CheckRecordable(jobs[:2]); err != nil {
		t.Errorf("CheckRecordable(one store each): %v", err)
	}
	if jobs, err := Jobs(p, []string{"bare"}, "file:///x"); err != nil || fmt.Sprint(jobs) != "[{bare file:///x}]" {
		t.Errorf("--store: %v %v", jobs, err)
	}
	if _, err := Jobs(p, []string{"bare"}, ""); err == nil || err.Error() != "catalog bare has no substituter to audit" || hint.Of(err) != "pass --store URL" {
		t.Errorf("no substituter: %v", err)
	}
}

func TestCheckPaths(t *testing.T) {
	file := Job{"acme", "file:///srv/acme"}
	web := Job{"web", "https://user:secret@a.example"}
	web2 := Job{"web", "https://b.example"}
	var s report.Log
	if err := CheckPaths(&s, []Job{file, web}, "paths.txt"); err != nil || fmt.Sprint([]string(s)) != "[warning: --paths is ignored for file:///srv/acme: file:// caches are listed]" {
		t.Errorf("file and web with a list: %v, said %q", err, s)
	}
	err := CheckPaths(new(report.Log), []Job{file, web}, "")
	if !errors.Is(err, ErrNotListed) || err.Error() != "https://a.example cannot be listed: pass --paths FILE with the store paths to look up" || !strings.HasPrefix(hint.Of(err), "nix path-info") {
		t.Errorf("web without a list: %v", err)
	}
	if err := CheckPaths(new(report.Log), []Job{web, web2}, "-"); err != ErrPathsStdin {
		t.Errorf("standard input for two stores: %v", err)
	}
	if err := CheckPaths(new(report.Log), []Job{file, web}, "-"); err != nil {
		t.Errorf("standard input for one store: %v", err)
	}
}

// RunJobs audits each store in turn, clearing the progress line after
// each, and names the catalog of a store it cannot read.
func TestRunJobs(t *testing.T) {
	c := newMixedCache(t)
	p := &policy.Policy{Catalogs: []*policy.Catalog{{Label: "acme", Substituters: []string{"file://" + c.dir}}}, Keys: c.keys(policy.Retired)}
	jobs := []Job{{"acme", "file://" + c.dir}, {"acme", c.dir}}
	prog := &progressLine{}
	reports, err := RunJobs(p, jobs, Access{}, -1, prog)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 || reports[0].Paths != reports[1].Paths || reports[0].Paths == 0 || prog.dones != 2 {
		t.Errorf("%d reports, progress cleared %d times", len(reports), prog.dones)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	_, err = RunJobs(p, []Job{{"acme", "file://" + missing}}, Access{}, -1, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "catalog acme: ") {
		t.Errorf("unreadable store: %v", err)
	}
	_, err = RunJobs(p, []Job{{"acme", "http://127.0.0.1:1"}}, Access{Paths: missing}, -1, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "catalog acme: --paths: open "+missing) {
		t.Errorf("missing paths list: %v", err)
	}
}

// An audit recorded for retire: the summary as retire reads it.
func recordFor(t *testing.T, c *mixedCache, policyDir string, keys []*policy.Key) {
	t.Helper()
	r := run(t, c.dir, Options{Catalog: "acme", Keys: keys})
	r.Store = "file://" + c.dir
	if err := WriteRecord(policyDir, r.Summary(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
}
