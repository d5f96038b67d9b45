package nixconf

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ApplyPlan is what "keyform apply" would do to one nix.conf.
type ApplyPlan struct {
	// Path is the file as the target names it; Created says it does not
	// exist yet.
	Path    string
	Created bool
	Want    Want
	// Old is the current content, New what to write.
	Old, New []byte
	// Change reports what Patch did. When it has Conflicts, the result
	// does not give the target its trust: apply refuses to write it.
	Change *Change
	// Warnings are what Nix will make of the result that the user should
	// know: entries Nix cannot use, and whether the nix.conf that Nix
	// reads (when Path is another file, such as Determinate Nix's
	// nix.custom.conf) includes it and keeps its lines. Only a plan
	// without conflicts has them.
	Warnings []Warning
	// Effective is what keyform reads in the result (Nix's defaults, the
	// file and its includes): CheckWithNix compares it with what Nix reads.
	Effective *Settings

	// file is New, parsed.
	file *File
}

// Warning is something apply writes anyway but the user should know.
type Warning struct {
	Msg  string
	Hint string // what to do, or ""
}

// Refused reports whether apply must not write the plan's result.
func (p *ApplyPlan) Refused() bool { return len(p.Change.Conflicts) > 0 }

// Changed reports whether apply has anything to write.
func (p *ApplyPlan) Changed() bool { return p.Change.Changed() }

// PlanApply patches the nix.conf c for want and checks the result as Nix
// will read it. read follows includes (and reads the nix.conf next to a
// file with another name). A file Nix rejects, or an include it cannot
// follow, is an error (*hint.Error, naming PATH:LINE where there is one);
// what Patch cannot fix is in the plan's Change.Conflicts.
func PlanApply(c *ConfFile, want Want, read ReadFunc) (*ApplyPlan, error) {
	p, err := patchPlan(c, want, read)
	if err != nil || p.Refused() {
		return p, err
	}
	return p, p.evaluate(c.Path, want, read)
}

// patchPlan is the first half of PlanApply: the patched file, without
// Effective and Warnings. Apply's Nix check can start from it, while
// evaluate runs.
func patchPlan(c *ConfFile, want Want, read ReadFunc) (*ApplyPlan, error) {
	f, err := Parse(c.Path, c.Data)
	if err != nil {
		if se := (*SyntaxError)(nil); errors.As(err, &se) && se.Shell {
			return nil, withHint(err, shellHint(se.Path))
		}
		return nil, withHint(err, "Nix itself rejects this file (nix config show fails); fix the line, then run keyform apply again")
	}
	g, ch, err := Patch(f, want, read)
	if err != nil {
		return nil, confError(err)
	}
	return &ApplyPlan{Path: c.Path, Created: !c.Exists, Want: want, Old: c.Data, New: g.Bytes(), Change: ch, file: g}, nil
}

// evaluate is the second half of PlanApply, for a plan without
// conflicts: Effective and Warnings.
func (p *ApplyPlan) evaluate(path string, want Want, read ReadFunc) error {
	// Patch evaluated the result without warnings, which cost more than
	// the evaluation itself on a large file: evaluate again with them.
	eff, err := Evaluate(read, p.file)
	if err != nil {
		return confError(err)
	}
	p.Effective = eff
	for _, w := range eff.Warnings {
		p.Warnings = append(p.Warnings, Warning{Msg: w})
	}
	p.Warnings = append(p.Warnings, rootWarnings(path, p.New, want, read)...)
	return nil
}

// confError adds a hint to errors about the configuration Nix would load.
func confError(err error) error {
	var se *SyntaxError
	var ie *IncludeError
	switch {
	case errors.As(err, &se) && se.Shell:
		return withHint(err, shellHint(se.Path))
	case errors.As(err, &se):
		return withHint(err, fmt.Sprintf("Nix itself rejects this configuration (nix config show fails); fix %s:%d, then run keyform apply again", se.Path, se.Line))
	case errors.As(err, &ie):
		return withHint(err, "Nix itself fails on this include; fix or remove it (\"!include\" tolerates a missing file)")
	}
	return err
}

// shellHint is the hint for a file with a shell command in it.
func shellHint(path string) string {
	return fmt.Sprintf("%s looks like a shell script (a profile?), not nix.conf: check the target's path (or --file); shell lines such as \"export PATH=...\" belong in a shell profile", path)
}

// rootWarnings looks at the nix.conf next to a file with another name
// (such as Determinate Nix's /etc/nix/nix.custom.conf): Nix reads that one,
// and what it says decides whether the patched file counts.
func rootWarnings(path string, patched []byte, want Want, read ReadFunc) []Warning {
	if filepath.Base(path) == "nix.conf" {
		return nil
	}
	rootPath := filepath.Join(filepath.Dir(path), "nix.conf")
	data, err := read(rootPath)
	if err != nil {
		return nil
	}
	root, err := Parse(rootPath, data)
	if err != nil {
		return []Warning{{Msg: err.Error()}}
	}
	included := false
	abs, _ := filepath.Abs(path)
	eff, err := Evaluate(func(p string) ([]byte, error) {
		if q, _ := filepath.Abs(p); q == abs {
			included = true
			return patched, nil
		}
		return read(p)
	}, root)
	if err != nil {
		return []Warning{{Msg: err.Error()}}
	}
	if !included {
		return []Warning{{
			Msg:  fmt.Sprintf("%s does not include %s, so Nix does not read it", rootPath, path),
			Hint: fmt.Sprintf("add \"!include %s\" at the end of %s", filepath.Base(path), rootPath),
		}}
	}
	var ws []Warning
	for _, c := range checkWant(want, eff).Conflicts {
		ws = append(ws, Warning{Msg: fmt.Sprintf("as Nix reads %s: %s", rootPath, c)})
	}
	return ws
}

// Report lists what the plan changes, for after it is written: added
// substituters and keys and removed retired keys with their lines, and a
// moved block.
func (p *ApplyPlan) Report() string {
	var b strings.Builder
	verb := "patched"
	if p.Created {
		verb = "created"
	}
	fmt.Fprintf(&b, "%s %s for %s:\n", verb, p.Path, p.Want.Target)
	for _, it := range p.Change.AddedSubstituters {
		fmt.Fprintf(&b, "  + substituter %s (line %d)\n", it.Value, it.Pos.Line)
	}
	for _, it := range p.Change.AddedKeys {
		fmt.Fprintf(&b, "  + key %s (%s, line %d)\n", it.Value, p.Want.Labels[it.Value], it.Pos.Line)
	}
	for _, it := range p.Change.RemovedKeys {
		fmt.Fprintf(&b, "  - key %s (%s, retired; was line %d)\n", it.Value, p.Want.Labels[it.Value], it.Pos.Line)
	}
	for _, m := range p.Change.Moved {
		fmt.Fprintf(&b, "  moved keyform's lines from line %d to line %d: %s\n", m.From, m.To, m.Why)
	}
	return b.String()
}
