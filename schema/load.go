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
	"github.com/keyform/keyform/internal/hint"
	"github.com/keyform/keyform/internal/redact"
	"github.com/keyform/keyform/internal/safefile"
	"github.com/keyform/keyform/policy"
)

// Options tune loading.
type Options struct {
	// AllowPending loads keys whose public_key_file does not exist yet as
	// pending (policy.Key.Pending) instead of failing; keygen needs this.
	AllowPending bool
	// Now is the date expiry is judged against; zero means time.Now().
	Now time.Time
	// Expiry says what an active key whose expires date has passed is: an
	// error (the zero value), a warning, or not judged at all.
	Expiry Expiry
	// SkipExpiry is Expiry: ExpiryIgnored, from before there were modes.
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

// Expiry says how Load judges an active key whose expires date has passed.
// Each command picks the mode that fits what it does (README, "Expiry"):
// CI must force a rotation, but a passing date must never stop machines
// from getting or checking their configuration.
type Expiry int

const (
	// ExpiredIsError makes an expired active key an error, and warns
	// expiry_warning_days before. validate, check and plan use it, so that
	// CI fails until the key is rotated and retired.
	ExpiredIsError Expiry = iota
	// ExpiredIsWarning makes it a warning ("Key expired"): for commands
	// that work on the whole policy but must keep working (render).
	ExpiredIsWarning
	// ExpiryIgnored reads expires without judging it and warns about
	// nothing: for a base revision that has expired since it was merged,
	// for rotate and retire (the fix), and for commands that warn only
	// about the keys they involve (policy.Key.Expired).
	ExpiryIgnored
)

// How each command of keyform judges expiry (README, "Expiry"): validate,
// check and plan's head load with the zero Options, where an expired
// active key is an error, so that CI forces the rotation; render with
// ExpiredIsWarning; plan's base with ExpiryIgnored (LoadBase); the rest
// with EditOptions or InvolvedOptions.
var (
	// EditOptions loads a policy for rotate and retire: these commands
	// are how an expired key is fixed, and keygen's pending keys may be
	// in it.
	EditOptions = Options{AllowPending: true, Expiry: ExpiryIgnored}
	// InvolvedOptions loads a policy without judging expiry, for the
	// commands that then warn only about the keys they involve
	// (policy.ExpiredKeys), so that a key passing its date changes
	// nothing for commands that do not involve it.
	InvolvedOptions = Options{Expiry: ExpiryIgnored}
)

// Limits on what Load reads, so that a pull request cannot hang or exhaust
// CI with a huge or endless file. Everything else (a pipe, a device, a
// directory named *.hcl) is refused before it is read.
const (
	// MaxPolicyFileSize caps one *.hcl file. Hand-written policies are a
	// few KiB; the 10,000-key synthetic policy in a single file is 3 MB.
	MaxPolicyFileSize = 4 << 20
	// MaxPolicySize caps all *.hcl files together: ten times the
	// 10,000-key, 1,000-target synthetic fleet (3.4 MB).
	MaxPolicySize = 32 << 20
	// MaxPublicKeyFileSize caps a public_key_file. A public key is one
	// line of about 70 bytes; 64 KiB leaves room for comments.
	MaxPublicKeyFileSize = 64 << 10
)

// ReadFile reads a policy file from the file system under the limits Load
// applies (MaxPolicyFileSize, regular files only): for commands that read
// or rewrite policy files themselves (fmt, rotate, retire).
func ReadFile(path string) ([]byte, error) {
	return safefile.ReadFile(path, MaxPolicyFileSize)
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
func Load(dir string, opts Options) *Result { return LoadAs(dir, dir, opts) }

// LoadAs is Load naming the files in diagnostics under display ("."
// names them bare): the keyform command shows paths relative to the
// policy directory, whatever -C says.
func LoadAs(dir, display string, opts Options) *Result {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return errResult("Cannot read policy directory", err.Error())
	}
	opts.AbsDir = abs
	if opts.WorkTree == "" {
		opts.WorkTree = gitfs.FindWorkTree(abs)
	}
	return LoadFS(os.DirFS(abs), display, opts)
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
			fmt.Sprintf("There are no *.hcl files in %s. Run \"keyform init\" to write a starter keyform.hcl, or pass -C DIR to point at the policy directory.", displayDir(dir, opts.AbsDir)))
	}
	if opts.SkipExpiry {
		opts.Expiry = ExpiryIgnored
	}
	l := &loader{fsys: fsys, dir: dir, opts: opts, fileByName: map[string]*hcl.File{}}
	if l.opts.Now.IsZero() {
		l.opts.Now = time.Now()
	}
	// Parse files concurrently: HCL parsing dominates loading a large
	// policy, and files are independent.
	parsed := make([]*hcl.File, len(names))
	fileDiags := make([]hcl.Diagnostics, len(names))
	findings := make([][]redact.Finding, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	// Read every file before parsing any, so that a policy over the
	// limits costs no parsing.
	srcs := make([][]byte, len(names))
	var total int64
	for i, name := range names {
		src, err := safefile.ReadFileFS(fsys, name, MaxPolicyFileSize)
		if err != nil {
			l.diags = append(l.diags, readError(l.display(name), "policy file", err))
			continue
		}
		if total += int64(len(src)); total > MaxPolicySize {
			return &Result{Diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Policy too large",
				Detail: fmt.Sprintf("The *.hcl files in %s add up to more than %s, the limit keyform reads, at %s. Remove files that are not policy, or split the policy into several directories.", displayDir(dir, opts.AbsDir), safefile.Size(MaxPolicySize), l.display(name))}}}
		}
		srcs[i] = src
	}
	for i, name := range names {
		src := srcs[i]
		if src == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			// Secrets are masked before HCL sees the bytes, so that no
			// diagnostic snippet, not even a syntax error's, can show one.
			findings[i] = redact.Mask(src)
			parsed[i], fileDiags[i] = hclsyntax.ParseConfig(src, l.display(name), hcl.InitialPos)
		}()
	}
	wg.Wait()
	canLoad := !l.diags.HasErrors()
	for i, name := range names {
		if fileDiags[i].HasErrors() {
			canLoad = false
		}
		secrets := secretDiags(parsed[i], l.display(name), findings[i])
		if len(secrets) > 0 {
			// One error per secret. A syntax error in the same file may
			// be the secret's doing (a line break in a string) and can
			// wait until it is gone; the decoding errors of the masked
			// values are left out (inSecret).
			l.diags = append(l.diags, secrets...)
			for _, d := range secrets {
				l.secretRanges = append(l.secretRanges, *d.Subject)
			}
		} else {
			l.diags = append(l.diags, fileDiags[i]...)
		}
		if f := parsed[i]; f != nil {
			l.fileByName[l.display(name)] = f
			l.files = append(l.files, f)
		}
	}
	res := &Result{files: l.fileByName}
	if canLoad {
		l.load()
	}
	res.Diags = l.diags
	if !res.Diags.HasErrors() {
		res.Policy = l.policy
	}
	return res
}

// displayDir names the policy directory for messages: as the user gave
// it, with the absolute path when that says more (".", or a relative dir).
func displayDir(dir, abs string) string {
	switch {
	case (dir == "" || dir == ".") && abs != "":
		return "the current directory, " + abs
	case dir == "" || dir == ".":
		return "the current directory"
	case abs != "" && abs != dir:
		return dir + " (" + abs + ")"
	}
	return dir
}

// readError turns a failure to read a file the policy needs into a
// diagnostic naming the file and, for refusals, the rule.
func readError(name, what string, err error) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read " + what, Detail: err.Error() + "."}
	var nr *safefile.NotRegularError
	var tl *safefile.TooLargeError
	switch {
	case errors.As(err, &nr):
		d.Detail = fmt.Sprintf("%s is %s, not a regular file. keyform reads only regular files from a policy (a pipe or device could hang it): replace it with a file.", name, safefile.TypeName(nr.Mode))
	case errors.As(err, &tl):
		d.Detail = fmt.Sprintf("%s is %s, larger than %s, the limit for a %s. This is not a %s keyform wrote or expects; remove it or replace it with the real one.", name, safefile.Size(tl.Size), safefile.Size(tl.Limit), what, what)
	}
	return d
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
	return safefile.ReadFileFS(l.fsys, name, MaxPublicKeyFileSize)
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
				results[i].data, results[i].err = safefile.ReadFileFS(l.fsys, names[i], MaxPublicKeyFileSize)
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

// LoadRevision loads the policy in dir (a directory of a git work tree) as
// it was at git revision rev, straight from git: the work tree is not
// touched. When dir had no policy files at rev, res is nil and empty names
// it as git does (everything in the current policy is new). Errors say how
// to get a revision to compare with.
func LoadRevision(dir, rev string, opts Options) (res *Result, empty string, err error) {
	tree, err := gitfs.Open(dir, rev)
	switch {
	case errors.Is(err, gitfs.ErrNotRepository):
		return nil, "", hint.Wrap(err, "run keyform plan in the git work tree that holds the policy, or compare with --base-dir DIR")
	case errors.Is(err, gitfs.ErrUnknownRevision) && rev == "HEAD":
		return nil, "", hint.Wrap(errors.New("the repository has no commit yet, so there is no HEAD to compare against"),
			"commit the policy first, or compare with --base-dir DIR")
	case errors.Is(err, gitfs.ErrUnknownRevision):
		return nil, "", hint.Wrap(fmt.Errorf("unknown git revision %q", rev),
			"check the name (git branch -a); in CI fetch the base first (git fetch origin main; actions/checkout needs fetch-depth: 0)")
	case err != nil:
		return nil, "", err
	}
	if names, _ := fs.Glob(tree, "*.hcl"); len(names) == 0 {
		return nil, tree.Display, nil
	}
	return LoadFS(tree, tree.Display, opts), "", nil
}
