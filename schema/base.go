package schema

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/policy"
)

// BaseSpec names the base policy a plan compares the working tree with:
// the policy directory at a git revision, or another directory.
type BaseSpec struct {
	// PolicyDir is the policy directory (a directory of a git work tree
	// when Rev is used).
	PolicyDir string
	// Rev is the git revision to read PolicyDir at; "" means HEAD.
	Rev string
	// Dir, when set, is the directory of the base policy instead of a
	// revision, relative to PolicyDir unless absolute; it names the base
	// in diagnostics and errors as given.
	Dir string
}

// Name is how the base is named in the plan and its messages: the
// directory as given, else the revision.
func (s BaseSpec) Name() string {
	switch {
	case s.Dir != "":
		return s.Dir
	case s.Rev != "":
		return s.Rev
	}
	return "HEAD"
}

// Base is a base policy loaded (or not) without printing anything, so
// that it can load while the head does; Policy reports and decides.
type Base struct {
	Name string
	res  *Result
	// empty names the base when it has no policy files: everything is new.
	empty string
	err   error
}

// LoadBase loads the base policy of s. Expiry is not judged, whatever
// opts says: a key that expired since the base was merged must not stop
// the review of its fix.
func LoadBase(s BaseSpec, opts Options) *Base {
	b := &Base{Name: s.Name()}
	opts.Expiry, opts.SkipExpiry = ExpiryIgnored, false
	if s.Dir == "" {
		b.res, b.empty, b.err = LoadRevision(s.PolicyDir, b.Name, opts)
		return b
	}
	dir := s.Dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(s.PolicyDir, dir)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		b.err = hint.Wrap(fmt.Errorf("--base-dir %s is not a directory", s.Dir), "give the directory of the policy to compare against")
	} else {
		b.res = LoadAs(dir, s.Dir, opts)
	}
	return b
}

// LoadBaseWhile loads the base of s (LoadBase) while head runs, and
// returns it once both are done: loading is mostly parsing, on every
// core, but each load also has a long single-threaded part. The base
// prints nothing, so that its messages can follow the head's, as if
// loaded in turn.
func LoadBaseWhile(s BaseSpec, opts Options, head func()) *Base {
	done := make(chan *Base, 1)
	go func() { done <- LoadBase(s, opts) }()
	head()
	return <-done
}

// Policy returns the base policy, or nil with a note when the base has no
// policy files (everything is new). A base that does not load has its
// errors written to w, and its warnings left out: they are not the
// change's business.
func (b *Base) Policy(w io.Writer, colour bool) (p *policy.Policy, note string, err error) {
	switch {
	case b.err != nil:
		return nil, "", b.err
	case b.empty != "":
		return nil, fmt.Sprintf("no policy files in %s; everything is new", b.empty), nil
	case !b.res.HasErrors():
		return b.res.Policy, "", nil
	}
	b.res.WriteErrors(w, 0, colour)
	return nil, "", hint.Wrap(fmt.Errorf("the base policy (%s) is invalid, so there is nothing valid to compare against", b.Name),
		"fix it there first, or compare against another revision with --base REV")
}
