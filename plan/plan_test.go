package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"text/template"
	"time"

	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/schema"
)

// pubKey returns a public key named name whose key pair is derived from
// seed, so tests can put the same key material under two names or two key
// pairs under one name.
func pubKey(name, seed string) string {
	var s [32]byte
	copy(s[:], seed)
	sk, err := keys.Generate(name, mrand.NewChaCha8(s))
	if err != nil {
		panic(err)
	}
	return sk.Public().String()
}

// load resolves a policy written as a template in which {{key NAME SEED}}
// is a public key.
func load(t testing.TB, src string) *policy.Policy {
	t.Helper()
	var buf bytes.Buffer
	tmpl := template.Must(template.New("").Funcs(template.FuncMap{"key": pubKey}).Parse(src))
	if err := tmpl.Execute(&buf, nil); err != nil {
		t.Fatal(err)
	}
	res := schema.LoadFS(fstest.MapFS{"keyform.hcl": {Data: buf.Bytes()}}, ".", schema.Options{Now: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})
	if res.HasErrors() {
		t.Fatalf("policy does not load: %v\n%s", res.Diags, buf.Bytes())
	}
	return res.Policy
}

const (
	catalogs = `
catalog "acme" {
  substituter = "https://cache.acme.example"
}
catalog "legacy" {}
`
	acme1 = `
key "acme_1" {
  name             = "cache.acme.example-1"
  catalog          = catalog.acme
  public_key       = "{{key "cache.acme.example-1" "a1"}}"
  private_key_path = "/keys/acme-1.key"
}
`
	legacy1 = `
key "legacy_1" {
  name       = "cache.legacy.example-1"
  catalog    = catalog.legacy
  public_key = "{{key "cache.legacy.example-1" "l1"}}"
}
`
	acme2 = `
key "acme_2" {
  name       = "cache.acme.example-2"
  catalog    = catalog.acme
  public_key = "{{key "cache.acme.example-2" "a2"}}"
}
`
	farm = `
target "nixos" "farm" {
  trust = [catalog.acme]
}
`
	laptops = `
target "darwin" "laptops" {
  trust = [catalog.legacy]
}
`
	base = catalogs + acme1 + legacy1 + farm + laptops
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name  string
		base  string
		head  string
		notes []string // "code subject"
		check func(t *testing.T, p *Plan)
	}{{
		name: "no change",
		base: base,
		head: base,
		check: func(t *testing.T, p *Plan) {
			if p.Changed || len(p.Targets)+len(p.Keys)+len(p.Catalogs)+len(p.Publishers) > 0 {
				t.Errorf("identical policies give a plan with changes: %s", p.JSON())
			}
		},
	}, {
		name: "descriptions and trust list order are not changes",
		base: base,
		head: strings.Replace(base, `catalog "legacy" {}`, `catalog "legacy" {
  description = "the old cache"
}`, 1),
		check: func(t *testing.T, p *Plan) {
			if p.Changed {
				t.Errorf("a description change shows as a change: %s", p.JSON())
			}
		},
	}, {
		name: "rotation adds a key to the catalog's targets",
		base: base,
		head: base + acme2,
		check: func(t *testing.T, p *Plan) {
			if len(p.Keys) != 1 || p.Keys[0].Label != "acme_2" || p.Keys[0].Change != Created || p.Keys[0].Before != nil {
				t.Errorf("keys: %+v", p.Keys)
			}
			if len(p.Targets) != 1 || p.Targets[0].ID != "nixos.farm" || len(p.Targets[0].KeysAdded) != 1 ||
				p.Targets[0].KeysAdded[0].Name != "cache.acme.example-2" || p.Targets[0].TrustedAfter != 2 {
				t.Errorf("targets: %+v", p.Targets)
			}
		},
	}, {
		name: "retiring the old key after a rotation is not risky",
		base: base + acme2,
		head: strings.Replace(base, `private_key_path = "/keys/acme-1.key"`, `private_key_path = "/keys/acme-1.key"
  state = "retired"`, 1) + acme2,
		check: func(t *testing.T, p *Plan) {
			if len(p.Keys) != 1 || !slices.Equal(p.Keys[0].Fields, []string{FieldState}) || p.Keys[0].After.State != "retired" {
				t.Errorf("keys: %+v", p.Keys)
			}
			if len(p.Targets) != 1 || len(p.Targets[0].KeysRemoved) != 1 || p.Targets[0].KeysRemoved[0].Label != "acme_1" {
				t.Errorf("targets: %+v", p.Targets)
			}
		},
	}, {
		name:  "retiring a catalog's only key",
		base:  base,
		head:  catalogs + acme1 + strings.Replace(legacy1, "l1\"}}\"", "l1\"}}\"\n  state = \"retired\"", 1) + farm + laptops,
		notes: []string{"catalog_without_active_key catalog.legacy", "last_active_key_retired key.legacy_1", "target_loses_all_trust darwin.laptops"},
	}, {
		name:  "deleting a catalog's only key",
		base:  base,
		head:  catalogs + acme1 + farm + laptops,
		notes: []string{"catalog_without_active_key catalog.legacy", "target_loses_all_trust darwin.laptops", "key_removed_while_active key.legacy_1"},
		check: func(t *testing.T, p *Plan) {
			if len(p.Keys) != 1 || p.Keys[0].Change != Removed || p.Keys[0].After != nil {
				t.Errorf("keys: %+v", p.Keys)
			}
		},
	}, {
		name:  "public key replaced in place",
		base:  base,
		head:  strings.Replace(base, `"a1"`, `"evil"`, 1),
		notes: []string{"public_key_replaced key.acme_1"},
		check: func(t *testing.T, p *Plan) {
			if len(p.Keys) != 1 || !slices.Equal(p.Keys[0].Fields, []string{FieldPublicKey}) {
				t.Fatalf("keys: %+v", p.Keys)
			}
			tc := p.Targets[0]
			if len(tc.KeysAdded) != 1 || len(tc.KeysRemoved) != 1 || tc.KeysAdded[0].Name != tc.KeysRemoved[0].Name ||
				tc.KeysAdded[0].Fingerprint == tc.KeysRemoved[0].Fingerprint {
				t.Errorf("a replaced key must show as one removed and one added under the same name: %+v", tc)
			}
			// The markdown tells the two apart by fingerprint.
			if md := string(p.Markdown()); !strings.Contains(md, tc.KeysAdded[0].Fingerprint) || !strings.Contains(md, tc.KeysRemoved[0].Fingerprint) {
				t.Errorf("markdown does not show both fingerprints:\n%s", md)
			}
		},
	}, {
		name:  "same key material under a new name",
		base:  base,
		head:  strings.Replace(strings.Replace(base, `"cache.acme.example-1" "a1"`, `"cache.acme.example-9" "a1"`, 1), `name             = "cache.acme.example-1"`, `name = "cache.acme.example-9"`, 1),
		notes: []string{"name_changed key.acme_1"},
	}, {
		name:  "a label rename keeping the key is not a deletion",
		base:  base,
		head:  strings.Replace(base, `key "legacy_1"`, `key "legacy_one"`, 1),
		notes: nil,
		check: func(t *testing.T, p *Plan) {
			if len(p.Keys) != 2 || len(p.Targets) != 0 {
				t.Errorf("keys %+v targets %+v", p.Keys, p.Targets)
			}
		},
	}, {
		name:  "a retired key made active again",
		base:  strings.Replace(base, `"l1"}}"`, `"l1"}}"`+"\n  state = \"retired\"", 1),
		head:  base,
		notes: []string{"key_reactivated key.legacy_1"},
	}, {
		name:  "exclusive turned on",
		base:  base,
		head:  strings.Replace(base, "trust = [catalog.acme]", "trust = [catalog.acme]\n  exclusive = true", 1),
		notes: []string{"exclusive_enabled nixos.farm"},
		check: func(t *testing.T, p *Plan) {
			if x := p.Targets[0].Exclusive; x == nil || x.Before || !x.After {
				t.Errorf("exclusive change %+v", x)
			}
		},
	}, {
		name:  "private key path moved",
		base:  base,
		head:  strings.Replace(base, "/keys/acme-1.key", "/vault/acme-1.key", 1),
		notes: []string{"private_key_path_moved key.acme_1"},
	}, {
		name:  "target removed and added",
		base:  base,
		head:  catalogs + acme1 + legacy1 + farm + `target "nixconf" "ci" { trust = [key.acme_1] }`,
		notes: []string{"target_removed darwin.laptops"},
		check: func(t *testing.T, p *Plan) {
			ids := []string{}
			for _, tc := range p.Targets {
				ids = append(ids, tc.ID+" "+tc.Change)
			}
			if !slices.Equal(ids, []string{"darwin.laptops removed", "nixconf.ci added"}) {
				t.Errorf("targets %v", ids)
			}
			if ci := p.Targets[1]; ci.Path == nil || ci.Path.After != "/etc/nix/nix.conf" || len(ci.KeysAdded) != 1 || !slices.Equal(ci.TrustAdded, []string{"key.acme_1"}) {
				t.Errorf("added target %+v", ci)
			}
		},
	}, {
		name:  "new catalog without keys, substituter change",
		base:  base,
		head:  strings.Replace(base, "https://cache.acme.example", "https://cache2.acme.example", 1) + `catalog "empty" {}`,
		notes: []string{"catalog_without_active_key catalog.empty"},
		check: func(t *testing.T, p *Plan) {
			if len(p.Catalogs) != 2 || p.Catalogs[0].Label != "acme" || !slices.Equal(p.Catalogs[0].SubstitutersAdded, []string{"https://cache2.acme.example"}) {
				t.Errorf("catalogs %+v", p.Catalogs)
			}
			if tc := p.Targets[0]; !slices.Equal(tc.SubstitutersRemoved, []string{"https://cache.acme.example"}) {
				t.Errorf("target %+v", tc)
			}
		},
	}, {
		name:  "everything is new against an empty base",
		base:  "",
		head:  base,
		notes: nil,
		check: func(t *testing.T, p *Plan) {
			if len(p.Targets) != 2 || len(p.Keys) != 2 || len(p.Catalogs) != 2 {
				t.Errorf("plan %s", p.JSON())
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b *policy.Policy
			if tt.base != "" {
				b = load(t, tt.base)
			}
			p := Compare(b, load(t, tt.head))
			var got []string
			for _, n := range p.Notes {
				got = append(got, n.Code+" "+n.Subject)
			}
			want := slices.Clone(tt.notes)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("notes %q, want %q", got, want)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
			checkInvariants(t, p)
		})
	}
}

// checkInvariants holds for every plan: deterministic, renderable, valid
// markdown, lists never null in JSON, notes sorted by level.
func checkInvariants(t *testing.T, p *Plan) {
	t.Helper()
	js := p.JSON()
	if bytes.Contains(js, []byte("null,")) && !bytes.Contains(js, []byte(`"before": null`)) && !bytes.Contains(js, []byte(`"after": null`)) {
		t.Errorf("JSON has null lists:\n%s", js)
	}
	var back Plan
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.JSON(), js) {
		t.Errorf("JSON does not round-trip")
	}
	if err := checkGFM(string(p.Markdown())); err != nil {
		t.Errorf("markdown: %v\n%s", err, p.Markdown())
	}
	rank := map[string]int{Danger: 0, Warning: 1, Info: 2}
	for i := 1; i < len(p.Notes); i++ {
		if rank[p.Notes[i-1].Level] > rank[p.Notes[i].Level] {
			t.Errorf("notes not sorted by level: %+v", p.Notes)
		}
	}
	if p.Changed != (len(p.Targets)+len(p.Keys)+len(p.Catalogs)+len(p.Publishers) > 0) {
		t.Errorf("Changed = %v for %s", p.Changed, js)
	}
	if !p.Changed && !strings.Contains(string(p.Text()), "No changes.") {
		t.Errorf("text of an empty plan:\n%s", p.Text())
	}
}

func TestCompareNilPolicies(t *testing.T) {
	p := Compare(nil, nil)
	if p.Changed || p.Version != 1 {
		t.Errorf("%s", p.JSON())
	}
	if got := string(p.JSON()); !strings.Contains(got, `"targets": []`) || !strings.Contains(got, `"notes": []`) {
		t.Errorf("empty lists must be [] in JSON:\n%s", got)
	}
}

func TestAddNotesKeepsOrder(t *testing.T) {
	p := Compare(nil, nil)
	p.AddNotes(Note{Level: Info, Code: "c", Subject: "b"}, Note{Level: Danger, Code: "z", Subject: "z"},
		Note{Level: Warning, Code: "reseal_needed", Subject: "publisher.ci"}, Note{Level: Danger, Code: "a", Subject: "a"})
	var got []string
	for _, n := range p.Notes {
		got = append(got, n.Level+" "+n.Subject)
	}
	want := []string{"danger a", "danger z", "warning publisher.ci", "info b"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// hostilePlan holds values that are markdown, HTML and table syntax. Names
// in a real policy are validated, but paths, URLs and refs from the
// command line are less tame, and the renderer must not depend on that.
func hostilePlan() *Plan {
	evil := "a|b `c` ``d`` <script>x</script> *e* _f_ [g](h) \\| \n i\r\nj ~k~ &amp; #l !m"
	k := &Key{Label: "x|y", Name: evil, Catalog: evil, State: "active", Fingerprint: "SHA256:" + evil, PrivateKeyPath: "/p|q`r", PublicKeyFile: evil, Expires: evil}
	ref := KeyRef{Label: evil, Name: evil, Fingerprint: "SHA256:" + evil}
	return &Plan{
		Version: 1, Base: "`origin`|main\n", Head: evil, Changed: true,
		Notes: []Note{{Level: Danger, Code: "x", Subject: evil, Message: evil}, {Level: "unknown|", Code: evil, Subject: "", Message: ""}},
		Targets: []TargetChange{{ID: evil, Kind: "nixos", Label: evil, Change: Modified, KeysAdded: []KeyRef{ref}, KeysRemoved: []KeyRef{ref},
			SubstitutersAdded: []string{evil, "https://x/?a=b|c"}, SubstitutersRemoved: []string{evil}, TrustAdded: []string{evil}, TrustRemoved: []string{evil},
			Exclusive: &BoolChange{false, true}, Path: &StringChange{evil, "`"}}},
		Keys: []KeyChange{{Label: evil, Change: Modified, Fields: []string{FieldState, FieldName, FieldPublicKey, FieldCatalog, FieldExpires, FieldPublicKeyFile, FieldPrivateKeyPath},
			Before: k, After: k}, {Label: "n", Change: Created, After: k}, {Label: "o", Change: Removed, Before: k}},
		Catalogs: []CatalogChange{{Label: evil, Change: Modified, SubstitutersAdded: []string{evil}, SubstitutersRemoved: []string{"|"}}},
	}
}

func TestMarkdownHostileValues(t *testing.T) {
	md := string(hostilePlan().Markdown())
	if err := checkGFM(md); err != nil {
		t.Fatalf("%v\n%s", err, md)
	}
	for i, line := range strings.Split(md, "\n") {
		if strings.Contains(withoutCodeSpans(line), "<script>") {
			t.Errorf("line %d: raw HTML from a value outside a code span: %q", i+1, line)
		}
	}
	if n := strings.Count(md, "\n"); n != 29 {
		t.Errorf("markdown has %d lines; a value's line break leaked into it?\n%s", n, md)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	for _, tt := range []struct{ fn, in, want string }{
		{"cell", "a|b", `a\|b`},
		{"cell", "a\nb\r\nc\rd", "a b c d"},
		{"cell", "  x  ", "x"},
		{"text", "a*b_c`d<e>[f]~g&h#i!j\\k", "a\\*b\\_c\\`d\\<e\\>\\[f\\]\\~g\\&h\\#i\\!j\\\\k"},
		{"text", "plain text, 1.2-3", "plain text, 1.2-3"},
		{"code", "x", "`x`"},
		{"code", "a`b", "``a`b``"},
		{"code", "a``b`", "``` a``b` ```"},
		{"code", "`", "`` ` ``"},
		{"code", "", ""},
	} {
		var got string
		switch tt.fn {
		case "cell":
			got = mdCell(tt.in)
		case "text":
			got = mdText(tt.in)
		case "code":
			got = mdCode(tt.in)
		}
		if got != tt.want {
			t.Errorf("md%s(%q) = %q, want %q", tt.fn, tt.in, got, tt.want)
		}
	}
}

// FuzzMarkdownCell: whatever a value holds, a row made of it has exactly
// the cells it was given.
func FuzzMarkdownCell(f *testing.F) {
	for _, s := range []string{"a|b", "`", "x\ny", "\\|", "``|``", "<br>", "\\", "a\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tbl := &mdTable{header: []string{"A", "B", "C"}}
		tbl.row(mdCode(s), mdText(s), "+ "+mdCode(s)+"<br>"+mdText(s))
		var b bytes.Buffer
		tbl.write(&b)
		if err := checkGFM(b.String()); err != nil {
			t.Fatalf("%v for %q:\n%s", err, s, b.String())
		}
	})
}

// checkGFM checks every table in md the way cmark-gfm (GitHub's parser)
// splits it: a header row, a delimiter row, and data rows with as many
// cells. cmark-gfm scans a cell as (escaped_char|[^|\r\n])+ with re2c's
// longest match, so a pipe directly after a backslash never ends a cell,
// whatever precedes the backslash; unescape_pipes then drops that one
// backslash. After that every code span must be closed within its cell.
func checkGFM(md string) error {
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "|") {
			continue
		}
		start := i
		for i < len(lines) && strings.HasPrefix(lines[i], "|") {
			i++
		}
		rows := lines[start:i]
		if len(rows) < 2 {
			return fmt.Errorf("line %d: table without delimiter row", start+1)
		}
		if i < len(lines) && lines[i] != "" {
			return fmt.Errorf("line %d: table not followed by a blank line: %q", i+1, lines[i])
		}
		var ncells int
		for j, row := range rows {
			cells, err := splitRow(row)
			if err != nil {
				return fmt.Errorf("line %d: %v", start+j+1, err)
			}
			switch j {
			case 0:
				ncells = len(cells)
			case 1:
				for _, c := range cells {
					if strings.Trim(c, " :-") != "" || !strings.Contains(c, "-") {
						return fmt.Errorf("line %d: bad delimiter cell %q", start+j+1, c)
					}
				}
			}
			if len(cells) != ncells {
				return fmt.Errorf("line %d: %d cells, header has %d: %q", start+j+1, len(cells), ncells, row)
			}
			for _, c := range cells {
				if err := checkCodeSpans(strings.ReplaceAll(c, `\|`, "|")); err != nil { // unescape_pipes
					return fmt.Errorf("line %d: cell %q: %v", start+j+1, c, err)
				}
			}
		}
	}
	return nil
}

func splitRow(row string) ([]string, error) {
	if !strings.HasSuffix(row, " |") {
		return nil, fmt.Errorf("row does not end with \" |\": %q", row)
	}
	var cells []string
	start := 1
	for i := 1; i < len(row); i++ {
		if row[i] == '|' && row[i-1] != '\\' {
			cells = append(cells, strings.TrimSpace(row[start:i]))
			start = i + 1
		}
	}
	return cells, nil
}

// withoutCodeSpans drops `...` spans (with fences of any length) from a
// line, keeping the rest.
func withoutCodeSpans(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '\\' && i+1 < len(s) {
			b.WriteString(s[i : i+2])
			i += 2
			continue
		}
		if s[i] != '`' {
			b.WriteByte(s[i])
			i++
			continue
		}
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		end := -1
		for j := i + n; j < len(s); {
			k := strings.Index(s[j:], fence)
			if k < 0 {
				break
			}
			k += j
			if (k+n == len(s) || s[k+n] != '`') && (s[k-1] != '`') {
				end = k + n
				break
			}
			j = k + 1
		}
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		i = end
	}
	return b.String()
}

// checkCodeSpans reports a backtick run outside a code span that opens no
// span (CommonMark: a run is closed only by a run of the same length).
// Backslash-escaped backticks outside spans are text.
func checkCodeSpans(s string) error {
	for i := 0; i < len(s); {
		if s[i] == '\\' {
			i += 2
			continue
		}
		if s[i] != '`' {
			i++
			continue
		}
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		rest := s[i+n:]
		closed := false
		for j := 0; j < len(rest); {
			if rest[j] != '`' {
				j++
				continue
			}
			m := 0
			for j+m < len(rest) && rest[j+m] == '`' {
				m++
			}
			if m == n {
				i += n + j + m
				closed = true
				break
			}
			j += m
		}
		if !closed {
			return fmt.Errorf("unclosed code span %s at %d", fence, i)
		}
	}
	return nil
}

// TestDiffKeysMatchesScan checks diffKeys, which walks both sorted lists
// together, against the definition: added are the keys of after whose
// public key before lacks, removed the reverse, each in its list's order.
// Lists come sorted or shuffled, with keys dropped, added, replaced in
// place and renamed.
func TestDiffKeysMatchesScan(t *testing.T) {
	scan := func(from, to []*policy.Key) []KeyRef {
		out := []KeyRef{}
		for _, k := range to {
			if !slices.ContainsFunc(from, func(o *policy.Key) bool { return o.PublicKey == k.PublicKey }) {
				out = append(out, keyRef(k))
			}
		}
		return out
	}
	rng := mrand.New(mrand.NewPCG(1, 2))
	key := func(cat, name, label, pub int) *policy.Key {
		return &policy.Key{Catalog: fmt.Sprintf("c%d", cat), Name: fmt.Sprintf("n%d", name), Label: fmt.Sprintf("l%d", label), PublicKey: fmt.Sprintf("pk%d", pub)}
	}
	for i := range 2000 {
		var before, after []*policy.Key
		for j := range rng.IntN(12) {
			b := key(rng.IntN(3), j, j, j)
			before = append(before, b)
			switch rng.IntN(6) {
			case 0: // dropped
			case 1: // replaced in place
				after = append(after, key(0, 0, 0, 0))
				*after[len(after)-1] = *b
				after[len(after)-1].PublicKey += "new"
			case 2: // renamed: same key material, new label
				after = append(after, key(rng.IntN(3), j, 100+j, j))
			default:
				c := *b
				after = append(after, &c)
			}
		}
		for j := range rng.IntN(3) {
			after = append(after, key(rng.IntN(3), 200+j, 200+j, 200+j))
		}
		if i%2 == 0 {
			policy.SortKeys(before)
			policy.SortKeys(after)
		} else {
			rng.Shuffle(len(after), func(a, b int) { after[a], after[b] = after[b], after[a] })
		}
		added, removed := diffKeys(before, after)
		if want := scan(before, after); !reflect.DeepEqual(added, want) {
			t.Fatalf("case %d: added %v, want %v", i, added, want)
		}
		if want := scan(after, before); !reflect.DeepEqual(removed, want) {
			t.Fatalf("case %d: removed %v, want %v", i, removed, want)
		}
	}
}
