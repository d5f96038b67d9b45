// Package schema turns a directory of keyform HCL files into a validated,
// resolved policy.Policy. It is the only package that reads HCL: every
// diagnostic it returns carries the file, line and column of its cause and
// says how to fix it.
package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/keyform/keyform/internal/gitfs"
	"github.com/keyform/keyform/policy"
)

// Options tune loading.
type Options struct {
	// AllowPending loads keys whose public_key_file does not exist yet as
	// pending (policy.Key.Pending) instead of failing; keygen needs this.
	AllowPending bool
	// Now is the date expiry is judged against; zero means time.Now().
	Now time.Time
	// SkipExpiry reads expires without judging it against Now. plan sets it
	// for the base revision (which may have expired since it was merged);
	// rotate and retire set it because they are the fix for an expired key.
	SkipExpiry bool
	// WorkTree is the absolute root of the git work tree holding the policy,
	// used to refuse private keys inside it. Load finds it itself; LoadFS
	// callers set it when they know it.
	WorkTree string
	// AbsDir is the absolute policy directory, used to refuse private keys
	// inside it. Load sets it.
	AbsDir string
	// CheckRecipient, when set, says whether a publisher's recipient is a
	// public key keyform can seal to; its error becomes the "Invalid
	// recipient" diagnostic. The keyform command passes seal's parser (see
	// seal.ParseRecipient), so a policy that validates can always be sealed.
	// It is an option so that loading a policy does not link the age
	// library; nil checks only the text (policy.CheckRecipientText).
	CheckRecipient func(recipient string) error
}

// Result is the outcome of loading a policy.
type Result struct {
	// Policy is nil when Diags has errors.
	Policy *policy.Policy
	Diags  hcl.Diagnostics
	files  map[string]*hcl.File
}

// HasErrors reports whether loading failed.
func (r *Result) HasErrors() bool { return r.Diags.HasErrors() }

// WriteDiagnostics prints every diagnostic with a source snippet, the way
// Terraform does. width 0 means no wrapping.
// Each diagnostic starts with FILE:LINE:COL, so editors and CI logs can
// jump to it.
func (r *Result) WriteDiagnostics(w io.Writer, width uint, color bool) error {
	return writeDiagnostics(w, r.files, r.Diags, width, color)
}

// WriteErrors is WriteDiagnostics without the warnings.
func (r *Result) WriteErrors(w io.Writer, width uint, color bool) error {
	var errs hcl.Diagnostics
	for _, d := range r.Diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		}
	}
	return writeDiagnostics(w, r.files, errs, width, color)
}

// Load reads every *.hcl file in dir (not recursing) and returns the
// resolved policy or diagnostics.
func Load(dir string, opts Options) *Result {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return errResult("Cannot read policy directory", err.Error())
	}
	opts.AbsDir = abs
	if opts.WorkTree == "" {
		opts.WorkTree = gitfs.FindWorkTree(abs)
	}
	return LoadFS(os.DirFS(dir), dir, opts)
}

// LoadFS is Load over any file system; dir is only used to name files in
// diagnostics ("." names them bare). plan uses it to read a policy at a git
// revision.
func LoadFS(fsys fs.FS, dir string, opts Options) *Result {
	names, err := fs.Glob(fsys, "*.hcl")
	if err != nil {
		return errResult("Cannot read policy directory", err.Error())
	}
	sort.Strings(names)
	if len(names) == 0 {
		return errResult("No policy files",
			fmt.Sprintf("There are no *.hcl files in %s. Run \"keyform init\" to write a starter keyform.hcl, or pass -C DIR to point at the policy directory.", displayDir(dir)))
	}
	l := &loader{fsys: fsys, dir: dir, opts: opts, fileByName: map[string]*hcl.File{}}
	if l.opts.Now.IsZero() {
		l.opts.Now = time.Now()
	}
	// Parse files concurrently: HCL parsing dominates loading a large
	// policy, and files are independent.
	parsed := make([]*hcl.File, len(names))
	fileDiags := make([]hcl.Diagnostics, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read policy file", Detail: err.Error()})
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			parsed[i], fileDiags[i] = hclsyntax.ParseConfig(src, l.display(name), hcl.InitialPos)
		}()
	}
	wg.Wait()
	for i, name := range names {
		l.diags = append(l.diags, fileDiags[i]...)
		if f := parsed[i]; f != nil {
			l.fileByName[l.display(name)] = f
			if !fileDiags[i].HasErrors() {
				l.files = append(l.files, f)
			}
		}
	}
	res := &Result{files: l.fileByName}
	if !l.diags.HasErrors() {
		l.load()
	}
	res.Diags = l.diags
	if !res.Diags.HasErrors() {
		res.Policy = l.policy
	}
	return res
}

func displayDir(dir string) string {
	if dir == "" || dir == "." {
		return "the current directory"
	}
	return dir
}

func errResult(summary, detail string) *Result {
	return &Result{Diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail}}}
}

// display names a policy file for diagnostics, relative to the working
// directory the user gave, so messages and goldens do not depend on where
// the repository lives.
func (l *loader) display(name string) string {
	if l.dir == "" || l.dir == "." {
		return name
	}
	return filepath.Join(l.dir, name)
}

// readFile reads a file named relative to the policy directory.
func (l *loader) readFile(rel string) ([]byte, error) {
	name := path.Clean(filepath.ToSlash(rel))
	if r, ok := l.prefetched[name]; ok {
		return r.data, r.err
	}
	return fs.ReadFile(l.fsys, name)
}

type readResult struct {
	data []byte
	err  error
}

// prefetch reads the named files (relative to the policy directory)
// concurrently, for readFile. A large policy keeps thousands of public
// keys in files, and reading them one by one was a tenth of loading it.
func (l *loader) prefetch(rels []string) {
	names := make([]string, len(rels))
	for i, rel := range rels {
		names[i] = path.Clean(filepath.ToSlash(rel))
	}
	results := make([]readResult, len(names))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(2*runtime.GOMAXPROCS(0), len(names)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(names) {
					return
				}
				results[i].data, results[i].err = fs.ReadFile(l.fsys, names[i])
			}
		})
	}
	wg.Wait()
	l.prefetched = make(map[string]readResult, len(names))
	for i, name := range names {
		l.prefetched[name] = results[i]
	}
}

var errNotExist = fs.ErrNotExist

func isNotExist(err error) bool { return errors.Is(err, errNotExist) }

// trimOneNewline drops a single trailing newline, as key files written by
// editors or `nix key ... > file` may or may not have one.
func trimOneNewline(b []byte) string {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return string(bytes.TrimSuffix(b, []byte("\r")))
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
