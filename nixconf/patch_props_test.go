package nixconf

import (
	"slices"
	"strings"
	"testing"
)

// checkProperties asserts what must hold for any patch of f:
//   - patching the result again changes nothing;
//   - every line that does not set a managed setting (and is not keyform's
//     comment) survives byte for byte, in order; new lines are only those;
//   - the effective keys are (before − retired) ∪ active, give or take the
//     values of a keyform block that a move brought back, and a retired key
//     still trusted comes from another file and is reported as a conflict;
//   - the effective substituters gain what the target needs and lose nothing.
func checkProperties(t testing.TB, want Want, read ReadFunc, f *File, ch *Change, out []byte) {
	t.Helper()
	g, err := Parse(f.Path, out)
	if err != nil {
		t.Fatalf("patched file does not parse: %v\n%s", err, out)
	}
	g2, ch2, err := Patch(g, want, read)
	if err != nil {
		t.Fatalf("second patch: %v", err)
	}
	if got := g2.String(); got != string(out) || ch2.Changed() {
		t.Errorf("second patch changed the file (changed=%v):\n--- once\n%s--- twice\n%s", ch2.Changed(), out, got)
	}
	if len(ch2.Conflicts) != len(ch.Conflicts) {
		t.Errorf("second patch reports %d conflicts, first %d", len(ch2.Conflicts), len(ch.Conflicts))
	}

	exempt := func(l *Line) bool {
		if st, _ := settingOf(l); st != nil {
			return true
		}
		tg, ok := isMarker(l)
		return ok && tg == want.Target
	}
	j := 0
	matched := make([]bool, len(g.Lines))
	for i, l := range f.Lines {
		if exempt(l) {
			continue
		}
		last := i == len(f.Lines)-1
		for j < len(g.Lines) && !(g.Lines[j].Raw == l.Raw || last && terminated(g.Lines[j].Raw, l.Raw)) {
			j++
		}
		if j == len(g.Lines) {
			t.Fatalf("line %d %q is not in the patched file, in order:\n%s", i+1, l.Raw, out)
		}
		matched[j] = true
		j++
	}
	for j, l := range g.Lines {
		if !matched[j] && !exempt(l) {
			t.Errorf("patched line %d %q is new but not keyform's", j+1, l.Raw)
		}
	}

	before, err1 := Evaluate(read, f)
	after, err2 := Evaluate(read, g)
	if err1 != nil || err2 != nil {
		t.Fatalf("evaluate: %v / %v", err1, err2)
	}
	retired := set(want.Retired)
	expect := map[string]bool{}
	for _, k := range before.Keys() {
		if !retired[k] {
			expect[k] = true
		}
	}
	for _, k := range want.Keys {
		expect[k] = true
	}
	restorable := map[string]bool{}
	if b, ok := ours(f, want.Target); ok {
		for _, l := range f.Lines[b.start+1 : b.end] {
			for _, v := range l.Values {
				restorable[v] = true
			}
		}
	}
	got := map[string]bool{}
	for _, it := range after.TrustedPublicKeys {
		if retired[it.Value] {
			if it.Pos.File == f.Path {
				t.Errorf("retired key %s still in the patched file at %s", it.Value, it.Pos)
			}
			if !slices.ContainsFunc(ch.Conflicts, func(c Conflict) bool { return c.Key == it.Value }) {
				t.Errorf("retired key %s from %s kept without a conflict", it.Value, it.Pos)
			}
			continue
		}
		got[it.Value] = true
		if !expect[it.Value] && !restorable[it.Value] {
			t.Errorf("key %s (%s) is trusted after the patch but was neither trusted before nor wanted", it.Value, it.Pos)
		}
	}
	for k := range expect {
		if !got[k] {
			t.Errorf("key %s should be trusted after the patch", k)
		}
	}
	subs := map[string]bool{}
	for _, u := range after.SubstituterURLs() {
		subs[normURL(u)] = true
	}
	for _, u := range slices.Concat(before.SubstituterURLs(), want.Substituters) {
		if !subs[normURL(u)] {
			t.Errorf("substituter %s missing after the patch", u)
		}
	}
}

// terminated reports whether got is want plus a line ending, as the
// patcher gives an unterminated last line before appending to the file.
func terminated(got, want string) bool {
	rest, ok := strings.CutPrefix(got, want)
	return ok && (rest == "\n" || rest == "\r\n")
}

func set(vs []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range vs {
		m[v] = true
	}
	return m
}
