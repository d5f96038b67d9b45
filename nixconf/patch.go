package nixconf

import (
	"fmt"
	"slices"
	"strings"
)

// Want is what one target needs from a nix.conf file.
type Want struct {
	// Target is the target's ID ("nixconf.ci_runners"), named in the
	// comment above the lines keyform manages.
	Target string
	// Keys are the public keys ("NAME:BASE64") that must be trusted.
	Keys []string
	// Retired are public keys that must not be trusted.
	Retired []string
	// Substituters are cache URLs that must be in substituters.
	Substituters []string
	// Labels name keys of Keys and Retired in reports (the policy's
	// labels); Patch and CheckTrust ignore them.
	Labels map[string]string
}

// Change reports what Patch did. Positions of removed keys, and a move's
// From and Why, refer to the original file; everything else to the
// patched one.
type Change struct {
	AddedKeys         []Item
	RemovedKeys       []Item
	AddedSubstituters []Item
	Moved             []Move
	// Notes explain a choice Patch made (or a quirk it worked around).
	Notes []string
	// Conflicts are problems Patch cannot fix in this file; the result
	// does not give the target the trust it needs, so do not write it.
	Conflicts []Conflict

	edited bool // some byte changed (also an emptied line or a dropped marker)
}

// Changed reports whether the patched file differs from the original.
func (c *Change) Changed() bool {
	return len(c.AddedKeys)+len(c.RemovedKeys)+len(c.AddedSubstituters)+len(c.Moved) > 0 || c.edited
}

// Move is keyform's block of lines moved within the file.
type Move struct {
	From, To int // line numbers of the block's comment, in the original and the patched file
	Why      string
}

// MarkerPrefix starts the comment above the lines keyform manages.
const MarkerPrefix = "# Managed by keyform (target "

func marker(target string) string {
	return MarkerPrefix + target + `): "keyform apply" edits the lines below; change the policy instead.`
}

// isMarker reports whether l is a keyform marker comment, and for which target.
func isMarker(l *Line) (target string, ok bool) {
	if l.Kind != Blank {
		return "", false
	}
	rest, ok := strings.CutPrefix(strings.TrimLeft(l.Text(), " \t"), MarkerPrefix)
	if !ok {
		return "", false
	}
	target, _, ok = strings.Cut(rest, ")")
	return target, ok
}

// block is a keyform marker and the managed lines right after it.
type block struct {
	target     string
	start, end int // marker index; index after the last managed line
}

// blocks finds every keyform block in f.
func blocks(f *File) []block {
	var bs []block
	for i := 0; i < len(f.Lines); i++ {
		t, ok := isMarker(f.Lines[i])
		if !ok {
			continue
		}
		b := block{target: t, start: i, end: i + 1}
		for b.end < len(f.Lines) {
			if st, extra := settingOf(f.Lines[b.end]); st == nil || !extra {
				break
			}
			b.end++
		}
		bs = append(bs, b)
		i = b.end - 1
	}
	return bs
}

// ours returns the last block of target, or ok false.
func ours(f *File, target string) (block, bool) {
	var found block
	ok := false
	for _, b := range blocks(f) {
		if b.target == target {
			found, ok = b, true
		}
	}
	return found, ok
}

// blockLines returns the indexes of the lines that keyform blocks manage
// (after their markers). Computed once per pass over a file: asking
// blocks() for each line made that pass quadratic.
func blockLines(f *File) map[int]bool {
	in := map[int]bool{}
	for _, b := range blocks(f) {
		for i := b.start + 1; i < b.end; i++ {
			in[i] = true
		}
	}
	return in
}

// checkWord rejects a value that nix.conf cannot hold as one word.
func checkWord(what, v string) error {
	if v == "" {
		return fmt.Errorf("empty %s", what)
	}
	for i := 0; i < len(v); i++ {
		if isSep(v[i]) || v[i] == '#' {
			return fmt.Errorf("%s %q contains %q, which nix.conf would split or cut", what, v, v[i])
		}
	}
	return nil
}

// Patch returns a copy of f changed as little as possible so that, read by
// Nix, it trusts want.Keys and not want.Retired, and has want.Substituters:
//   - retired keys are removed from every line that sets trusted-public-keys
//     (plain, extra- or alias); keys the policy does not name are kept;
//   - an extra- line left without values by that is deleted (a plain line
//     stays, empty: it still replaces what came before);
//   - missing values are appended to keyform's block for the target, or to
//     a new block ("# Managed by keyform ..." and extra- lines) at the end,
//     never to the user's own lines;
//   - a block that a later plain line (or an include that holds one) would
//     wipe is moved to the end of the file.
//
// read follows includes (nil: ignore them). Patching the result again
// changes nothing.
func Patch(f *File, want Want, read ReadFunc) (*File, *Change, error) {
	if err := f.Err(); err != nil {
		return nil, nil, err
	}
	for _, k := range want.Keys {
		if err := checkWord("key", k); err != nil {
			return nil, nil, err
		}
	}
	for _, u := range want.Substituters {
		if err := checkWord("substituter", u); err != nil {
			return nil, nil, err
		}
	}
	for _, k := range want.Retired {
		if slices.Contains(want.Keys, k) {
			return nil, nil, fmt.Errorf("key %s is both active and retired", k)
		}
	}
	if err := checkWord("target", want.Target); err != nil || strings.Contains(want.Target, ")") {
		return nil, nil, fmt.Errorf("invalid target %q", want.Target)
	}
	p := &patcher{f: f.Clone(), want: want, read: read, ch: &Change{}, includes: map[string]*File{}}
	if err := p.run(); err != nil {
		return nil, nil, err
	}
	return p.f, p.ch, nil
}

type patcher struct {
	f    *File
	want Want
	read ReadFunc
	ch   *Change

	// includes caches the included files, parsed once for the several
	// evaluations of one patch.
	includes map[string]*File

	added    map[*Line][]string // values appended, per line, for the report
	addedSub map[*Line][]string
	moved    *Line // marker of a moved block
	movedOld int
	movedWhy string

	// origLine numbers the lines of the original file, for reports about
	// it: deleting an emptied line shifts the lines after it.
	origLine map[*Line]int
}

func (p *patcher) run() error {
	p.added = map[*Line][]string{}
	p.addedSub = map[*Line][]string{}
	orig := slices.Clone(p.f.Lines)
	p.origLine = make(map[*Line]int, len(orig))
	for i, l := range orig {
		p.origLine[l] = i + 1
	}

	// Retired keys go wherever they are, in the file itself.
	retired := map[string]bool{}
	for _, k := range p.want.Retired {
		retired[k] = true
	}
	emptied := map[*Line]bool{}
	for i, l := range p.f.Lines {
		st, extra := settingOf(l)
		if st != trustedKeys {
			continue
		}
		hit := false
		for _, v := range l.Values {
			if retired[v] {
				p.ch.RemovedKeys = append(p.ch.RemovedKeys, Item{Value: v, Pos: Pos{File: p.f.Path, Line: i + 1}})
				hit = true
			}
		}
		if hit {
			l.removeValues(func(v string) bool { return retired[v] })
			// An extra- line left empty adds nothing: it goes. An
			// emptied plain line stays, since it still replaces what
			// came before it.
			if extra && len(l.Values) == 0 {
				emptied[l] = true
			}
		}
	}
	if len(emptied) > 0 {
		p.f.Lines = slices.DeleteFunc(p.f.Lines, func(l *Line) bool { return emptied[l] })
	}
	p.dropEmptyBlockLines()

	eff, err := p.evaluate()
	if err != nil {
		return err
	}
	// The file may trust many more keys than the target needs: look the
	// needed ones up while walking the trusted list once.
	have := trustedAmong(eff, p.want.Keys)
	haveSub := map[string]bool{}
	for _, it := range eff.Substituters {
		haveSub[normURL(it.Value)] = true
	}
	var missing, missingSub []string
	for _, k := range p.want.Keys {
		if !have[k] {
			have[k] = true
			missing = append(missing, k)
		}
	}
	for _, u := range p.want.Substituters {
		if !haveSub[normURL(u)] {
			haveSub[normURL(u)] = true
			missingSub = append(missingSub, u)
		}
	}
	// Substituters first, so a new block reads like the usual pair.
	if len(missingSub) > 0 {
		if err := p.place(substituters, missingSub); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		if err := p.place(trustedKeys, missing); err != nil {
			return err
		}
	}
	p.report()
	p.ch.edited = !slices.EqualFunc(orig, p.f.Lines, func(a, b *Line) bool { return a.Raw == b.Raw })
	return p.check()
}

// evaluate evaluates the patched file, without the warnings Patch does not
// report, parsing each include once per patch.
func (p *patcher) evaluate() (*Settings, error) {
	return (&evaluator{read: p.read, includes: p.includes}).evaluate(p.f)
}

// dropEmptyBlockLines deletes keyform's own lines left without values, and
// a marker left without lines. Users' lines stay, even empty.
func (p *patcher) dropEmptyBlockLines() {
	for _, b := range slices.Backward(blocks(p.f)) {
		if b.target != p.want.Target {
			continue
		}
		end := b.end
		for i := b.end - 1; i > b.start; i-- {
			if len(p.f.Lines[i].Values) == 0 {
				p.f.Lines = slices.Delete(p.f.Lines, i, i+1)
				end--
			}
		}
		if end == b.start+1 {
			p.f.Lines = slices.Delete(p.f.Lines, b.start, b.start+1)
		}
	}
}

// place appends vals to the line where Nix will keep them.
func (p *patcher) place(st *setting, vals []string) error {
	rs, err := resets(p.f, p.read, p.includes)
	if err != nil {
		return err
	}
	r := rs[st]
	p.noteWiped(st, r)
	// Values go only into keyform's own block (moved if something wipes
	// it), never into the user's lines: everything apply adds is under its
	// marker, whatever lines the user keeps.
	b, haveBlock := ours(p.f, p.want.Target)
	if haveBlock && b.start <= r {
		p.moveToEnd(b, st, r)
		b, _ = ours(p.f, p.want.Target)
	}
	if haveBlock {
		for i := b.start + 1; i < b.end; i++ {
			if s, _ := settingOf(p.f.Lines[i]); s == st {
				p.appendTo(st, p.f.Lines[i], vals)
				return nil
			}
		}
	} else {
		p.terminateLast()
		p.f.Lines = append(p.f.Lines, parseLine(marker(p.want.Target)+p.f.eol()))
		b, _ = ours(p.f, p.want.Target)
	}
	l := parseLine("extra-" + st.name + " =" + p.f.eol())
	if b.end == len(p.f.Lines) {
		p.terminateLast()
	}
	p.f.Lines = slices.Insert(p.f.Lines, b.end, l)
	p.appendTo(st, l, vals)
	return nil
}

// appendTo adds vals to l, except those l already holds (a moved block
// brings its values back into effect); all count as added.
func (p *patcher) appendTo(st *setting, l *Line, vals []string) {
	var fresh []string
	for _, v := range vals {
		if !slices.Contains(l.Values, v) {
			fresh = append(fresh, v)
		}
	}
	if len(fresh) > 0 {
		l.appendValues(fresh)
	}
	if st == trustedKeys {
		p.added[l] = append(p.added[l], vals...)
	} else {
		p.addedSub[l] = append(p.addedSub[l], vals...)
	}
}

// terminateLast gives a last line without a line ending one, so that a line
// can follow it.
func (p *patcher) terminateLast() {
	if n := len(p.f.Lines); n > 0 && !strings.HasSuffix(p.f.Lines[n-1].Raw, "\n") {
		l := p.f.Lines[n-1]
		*l = *parseLine(l.Raw + p.f.eol())
	}
}

// moveToEnd moves block b after everything, because the line at index r
// would wipe it.
func (p *patcher) moveToEnd(b block, st *setting, r int) {
	lines := slices.Clone(p.f.Lines[b.start:b.end])
	why := fmt.Sprintf("line %d replaces %s, so Nix ignored keyform's lines above it", p.origLine[p.f.Lines[r]], st.name)
	p.f.Lines = slices.Delete(p.f.Lines, b.start, b.end)
	p.terminateLast()
	p.f.Lines = append(p.f.Lines, lines...)
	if p.moved == nil {
		p.moved, p.movedOld, p.movedWhy = lines[0], p.origLine[lines[0]], why
	}
	// The moved block brings back what it held; say so for values the
	// policy no longer names.
	named := map[string]bool{}
	for _, v := range slices.Concat(p.want.Keys, p.want.Substituters) {
		named[v] = true
	}
	for _, l := range lines[1:] {
		for _, v := range l.Values {
			if !named[v] {
				p.ch.Notes = append(p.ch.Notes, fmt.Sprintf("moving keyform's block also restores %s, which the policy no longer names; declare it retired for keyform to remove it", v))
			}
		}
	}
}

// noteWiped explains users' extra- lines that an earlier-than-plain
// position makes useless, because that is why keyform adds a line of its own.
func (p *patcher) noteWiped(st *setting, r int) {
	if r < 0 {
		return
	}
	managed := blockLines(p.f)
	for i := 0; i < r; i++ {
		l := p.f.Lines[i]
		if s, extra := settingOf(l); s == st && extra && !managed[i] && len(l.Values) > 0 {
			p.ch.Notes = append(p.ch.Notes, fmt.Sprintf("%s:%d: %s comes before line %d, which replaces %s, so Nix ignores it (Nix bug 9487); keyform adds its values after line %d",
				p.f.Path, i+1, l.Name, r+1, st.name, r+1))
		}
	}
}

// report fills in positions of additions and moves in the patched file.
func (p *patcher) report() {
	for i, l := range p.f.Lines {
		pos := Pos{File: p.f.Path, Line: i + 1}
		for _, v := range p.added[l] {
			p.ch.AddedKeys = append(p.ch.AddedKeys, Item{Value: v, Pos: pos})
		}
		for _, v := range p.addedSub[l] {
			p.ch.AddedSubstituters = append(p.ch.AddedSubstituters, Item{Value: v, Pos: pos})
		}
		if l == p.moved {
			p.ch.Moved = append(p.ch.Moved, Move{From: p.movedOld, To: i + 1, Why: p.movedWhy})
		}
	}
}

// check evaluates the result and reports what still keeps it from giving
// the target exactly the trust it needs.
func (p *patcher) check() error {
	eff, err := p.evaluate()
	if err != nil {
		return err
	}
	p.ch.Conflicts = checkWant(p.want, eff).Conflicts
	return nil
}

// removeValues deletes the values drop selects, keeping the rest of the
// line (spacing, comment, line ending) as it was.
func (l *Line) removeValues(drop func(string) bool) {
	vt := l.toks[2:]
	if len(vt) == 0 {
		return
	}
	start, end := vt[0][0], vt[len(vt)-1][1]
	var b strings.Builder
	wrote := false
	for i, t := range vt {
		if drop(l.Raw[t[0]:t[1]]) {
			continue
		}
		if wrote {
			b.WriteString(l.Raw[vt[i-1][1]:t[0]])
		}
		b.WriteString(l.Raw[t[0]:t[1]])
		wrote = true
	}
	if !wrote {
		start = l.toks[1][1] // right after "="
	}
	*l = *parseLine(l.Raw[:start] + b.String() + l.Raw[end:])
}

// appendValues adds vals after the line's last value (or its "="),
// keeping any comment and the line ending.
func (l *Line) appendValues(vals []string) {
	at := l.toks[len(l.toks)-1][1]
	ins := " " + strings.Join(vals, " ")
	rest := l.Raw[at:]
	if strings.HasPrefix(rest, "#") {
		ins += " "
	}
	*l = *parseLine(l.Raw[:at] + ins + rest)
}
