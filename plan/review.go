package plan

import (
	"io/fs"

	"github.com/keyform/keyform/policy"
)

// Review is the plan "keyform plan" shows: what changes from base (named
// baseName) to the working tree's head (Compare), with the notes about
// sealed keys (SealNotes) and about the audits recorded in the policy
// directory fsys (AuditNotes).
func Review(fsys fs.FS, base, head *policy.Policy, baseName string) (*Plan, error) {
	p := Compare(base, head)
	p.Base, p.Head = baseName, "working tree"
	notes, err := SealNotes(fsys, head)
	if err != nil {
		return nil, err
	}
	p.AddNotes(notes...)
	p.AddNotes(AuditNotes(fsys, base, head)...)
	return p, nil
}

// Format returns how a plan is written in the named format: text,
// markdown (or md) or json; false for another name.
func Format(name string) (func(*Plan) []byte, bool) {
	f, ok := map[string]func(*Plan) []byte{"text": (*Plan).Text, "markdown": (*Plan).Markdown, "md": (*Plan).Markdown, "json": (*Plan).JSON}[name]
	return f, ok
}
