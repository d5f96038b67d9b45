package nixconf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// The machine's Nix is the authority on what a nix.conf means. Nix rejects
// files for their values too, and which values it accepts differs between
// versions (Nix 2.8 rejects a build-hook that is not an absolute path, 2.26
// accepts it), so no table kept in keyform can be right for every machine.
// Before apply writes, CheckWithNix loads the file as apply would write it
// with the nix installed here, isolated from the machine's own
// configuration, and compares what Nix reads with what keyform computed.

// NixCheck is the verdict of the machine's Nix on the file apply would
// write, when Nix accepts it and reads it as keyform does.
type NixCheck struct {
	// Command is the command that read the file ("nix show-config", or
	// "nix config show" on a Nix without the old name); "" when nix is
	// not installed.
	Command string
	// Keys and Substituters count the effective entries Nix and keyform
	// agree on.
	Keys, Substituters int

	looked string // where else nix was looked for, for Summary
}

// Ran reports whether Nix checked the file; false when nix is not
// installed, so only keyform's parser did.
func (c *NixCheck) Ran() bool { return c.Command != "" }

// Summary says what the check found, in one line about the file at path.
func (c *NixCheck) Summary(path string) string {
	if !c.Ran() {
		return fmt.Sprintf("nix is not installed (no nix on PATH%s): %s as apply would write it was checked by keyform's parser only", c.looked, path)
	}
	return fmt.Sprintf("%s accepts %s as apply would write it and reads the same %s and %s as keyform",
		c.Command, path, plural(c.Keys, "trusted public key"), plural(c.Substituters, "substituter"))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// NixRejectError is the machine's Nix refusing the file apply would write.
// Nix names the setting or the value, not the line: At is the line keyform
// finds the message is about (zero when it cannot tell).
type NixRejectError struct {
	Path    string // the file apply edits
	Command string
	Msg     string // Nix's message, without "error: " and its help line
	At      Pos
	// Predates says Nix rejects the current file too, with OrigMsg at
	// OrigAt: the problem is not keyform's change.
	Predates bool
	OrigMsg  string
	OrigAt   Pos
}

func (e *NixRejectError) Error() string {
	if e.At.File == "" {
		return fmt.Sprintf("%s: %s rejects the file as apply would write it (keyform cannot tell which line): %s", e.Path, e.Command, e.Msg)
	}
	what := "the file"
	if e.At.File != e.Path {
		what = e.Path
	}
	return fmt.Sprintf("%s: %s rejects %s as apply would write it: %s", e.At, e.Command, what, e.Msg)
}

func (e *NixRejectError) hint() string {
	switch {
	case e.Predates && e.OrigMsg == e.Msg && e.OrigAt.File != "":
		return fmt.Sprintf("the problem predates keyform: Nix rejects the current file the same way, at %s; fix that line, then run keyform apply again (nothing was written)", e.OrigAt)
	case e.Predates && e.OrigMsg == e.Msg:
		return "the problem predates keyform: Nix rejects the current file the same way; fix it, then run keyform apply again (nothing was written)"
	case e.Predates:
		at := ""
		if e.OrigAt.File != "" {
			at = e.OrigAt.String() + ": "
		}
		return fmt.Sprintf("Nix rejects the current file too (%s%s); fix it, then run keyform apply again (nothing was written)", at, e.OrigMsg)
	}
	return "Nix accepts the current file, so keyform's change causes this: nothing was written; please report it as a keyform bug, with the file"
}

// NixDisagreeError is the machine's Nix reading the effective
// trusted-public-keys or substituters of the file apply would write
// differently from keyform.
type NixDisagreeError struct {
	Path    string
	Command string
	Diffs   []ListDiff
}

// ListDiff is one setting that Nix and keyform read differently.
type ListDiff struct {
	Setting      string
	Nix, Keyform []string
}

func (e *NixDisagreeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s and keyform read %s, as apply would write it, differently:", e.Command, e.Path)
	for _, d := range e.Diffs {
		first := 0
		for first < min(len(d.Nix), len(d.Keyform)) && d.Nix[first] == d.Keyform[first] {
			first++
		}
		fmt.Fprintf(&b, "\n  %s as %s reads it: %s", d.Setting, e.Command, showList(d.Nix, first))
		fmt.Fprintf(&b, "\n  %s as keyform reads it: %s", d.Setting, showList(d.Keyform, first))
	}
	return b.String()
}

// showList prints a list whole when it is short, else its length and the
// entry where it differs from the other view.
func showList(l []string, first int) string {
	if len(l) <= 6 {
		if len(l) == 0 {
			return "(empty)"
		}
		return strings.Join(l, " ")
	}
	if first < len(l) {
		return fmt.Sprintf("%d entries; entry %d is %s", len(l), first+1, l[first])
	}
	return fmt.Sprintf("%d entries; it ends after entry %d", len(l), first)
}

// CheckWithNix loads the file apply would write (p.New, its includes read
// from the disk as Nix will read them) with the machine's nix, and compares
// the trusted-public-keys and substituters Nix reads with p.Effective. It
// runs "nix show-config" (or "nix config show" on a Nix without the old
// name) with NIX_CONF_DIR set to a private temporary directory that holds
// the file as nix.conf (relative include paths made absolute, so that they
// lead where they lead from the real file), no user configuration files and
// no NIX_CONFIG.
//
// A file Nix rejects is a *NixRejectError, and a difference a
// *NixDisagreeError, each inside a *hint.Error. Without nix on PATH the
// check is a NixCheck that did not run, not an error. p must not be
// refused.
func (h Host) CheckWithNix(p *ApplyPlan) (*NixCheck, error) {
	return h.startNixCheck(p)()
}

// startNixCheck runs CheckWithNix's nix in the background and returns
// the wait for its result. Until then p.Effective may still be filled in
// (apply evaluates the plan while nix loads it): only the comparison,
// after nix, reads it.
func (h Host) startNixCheck(p *ApplyPlan) (wait func() (*NixCheck, error)) {
	type result struct {
		n     *nixRun
		shown [][]byte
		check *NixCheck
		err   error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.n, r.shown, r.check, r.err = h.runNixCheck(p)
		done <- r
	}()
	return func() (*NixCheck, error) {
		r := <-done
		if r.err != nil || r.check != nil {
			return r.check, r.err
		}
		return r.n.compare(p, r.shown)
	}
}

// runNixCheck has nix load p's file: the two lines of its output the
// check compares, or a NixCheck that did not run (no nix), or an error
// (Nix rejects the file).
func (h Host) runNixCheck(p *ApplyPlan) (*nixRun, [][]byte, *NixCheck, error) {
	abs, err := filepath.Abs(p.Path)
	if err != nil {
		return nil, nil, nil, err
	}
	dir, err := os.MkdirTemp(h.TempDir, "keyform-nix-check-")
	if err != nil {
		return nil, nil, nil, withHint(fmt.Errorf("check with nix: %w", err), "set TMPDIR to a writable directory, or skip the check with --no-nix-check")
	}
	defer os.RemoveAll(dir)
	n := &nixRun{h: h, dir: dir, realPath: p.Path, sub: showConfigCommands[1]}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o700); err != nil {
		return nil, nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "user.conf"), nil, 0o600); err != nil {
		return nil, nil, nil, err
	}
	name, err := n.writeConfFile("new", abs, p.file)
	if err != nil {
		return nil, nil, nil, err
	}
	out, msg, err := n.show(name)
	if errors.Is(err, exec.ErrNotFound) {
		looked := ""
		if len(h.NixPaths) > 0 {
			looked = " or at " + strings.Join(h.NixPaths, ", ")
		}
		return nil, nil, &NixCheck{looked: looked}, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if msg != "" {
		return nil, nil, nil, n.rejected(p, abs, msg)
	}
	shown, err := shownLines(out)
	if err != nil {
		return nil, nil, nil, withHint(fmt.Errorf("%s: %v", n.command(), err), "skip the check with --no-nix-check if this nix is not the one that reads the file")
	}
	return n, shown, nil, nil
}

// compare compares the lines Nix showed for p's file with p.Effective.
func (n *nixRun) compare(p *ApplyPlan, shown [][]byte) (*NixCheck, error) {
	kf := p.Effective
	var diffs []ListDiff
	for i, st := range settings {
		if items := *kf.list(st); !sameWords(shown[i], items) {
			diffs = append(diffs, ListDiff{Setting: st.name, Nix: words(string(shown[i])), Keyform: values(items)})
		}
	}
	if len(diffs) > 0 {
		return nil, withHint(&NixDisagreeError{Path: p.Path, Command: n.command(), Diffs: diffs},
			"nothing was written: what Nix reads decides, so keyform's view is wrong; please report it as a keyform bug, with the file (--no-nix-check skips the check)")
	}
	return &NixCheck{Command: n.command(), Keys: len(kf.TrustedPublicKeys), Substituters: len(kf.Substituters)}, nil
}

// nixRun runs the machine's nix on files in a private directory.
type nixRun struct {
	h        Host
	dir      string
	realPath string   // the file the messages are about
	nixPath  string   // a nix not on PATH (Host.NixPaths), or ""
	sub      []string // the show-config subcommand this Nix has
	runs     int      // numbers the directories of the configurations
}

// nix is the nix to run: the one on PATH, or one of the Host's NixPaths.
func (n *nixRun) nix() string {
	if n.nixPath != "" {
		return n.nixPath
	}
	return "nix"
}

func (n *nixRun) command() string { return n.nix() + " " + strings.Join(n.sub, " ") }

// env is the environment nix runs in: the caller's, without Nix's
// configuration variables, with NIX_CONF_DIR set to confDir and an empty
// user configuration file.
func (n *nixRun) env(confDir string) []string {
	var env []string
	if n.h.Environ != nil {
		for _, kv := range n.h.Environ() {
			switch name, _, _ := strings.Cut(kv, "="); name {
			case "NIX_CONFIG", "NIX_CONF_DIR", "NIX_USER_CONF_FILES":
				continue
			}
			env = append(env, kv)
		}
	}
	return append(env, "NIX_CONF_DIR="+confDir, "NIX_USER_CONF_FILES="+filepath.Join(n.dir, "user.conf"))
}

// writeConf writes data as nix.conf in a new directory of the private
// one, named after what and a number, and returns that name.
func (n *nixRun) writeConf(what string, data []byte) (string, error) {
	return n.writeConfWith(what, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeConfFile is writeConf for f, with its relative includes made
// absolute against abs (writeAbsIncludes).
func (n *nixRun) writeConfFile(what, abs string, f *File) (string, error) {
	return n.writeConfWith(what, func(w io.Writer) error { return writeAbsIncludes(w, abs, f) })
}

func (n *nixRun) writeConfWith(what string, write func(io.Writer) error) (string, error) {
	n.runs++
	name := fmt.Sprintf("%s%d", what, n.runs)
	d := filepath.Join(n.dir, name)
	if err := os.Mkdir(d, 0o700); err != nil {
		return "", err
	}
	out, err := os.OpenFile(filepath.Join(d, "nix.conf"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	err = write(out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return name, err
}

// show runs the show-config command on the configuration in directory
// name: its output, or Nix's message when it fails.
//
// It runs "nix show-config" first, unlike verify: every Nix so far has it
// (2.20 and later as a deprecated alias of "nix config show", which older
// ones lack), and Nix reads its configuration before it looks at the
// command, so trying "config show" first would make a Nix before 2.20 load
// a large file twice. A Nix without "show-config" says so, and gets "config
// show". It asks for text, not JSON: Nix prints text faster, and keyform
// reads the two lines it needs without decoding the rest (the words of a
// nix.conf list hold no spaces, so text loses nothing).
func (n *nixRun) show(name string) (out []byte, msg string, err error) {
	argv := append([]string{n.nix(), "--extra-experimental-features", "nix-command"}, n.sub...)
	confDir := filepath.Join(n.dir, name)
	out, stderr, err := n.h.Output(argv, n.env(confDir))
	if err == nil {
		return out, "", nil
	}
	if errors.Is(err, exec.ErrNotFound) {
		if n.nixPath == "" {
			for _, p := range n.h.NixPaths {
				if fi, serr := os.Stat(p); serr == nil && fi.Mode().IsRegular() {
					n.nixPath = p
					return n.show(name)
				}
			}
		}
		return nil, "", fmt.Errorf("%s: %w", n.command(), err)
	}
	if slices.Equal(n.sub, showConfigCommands[1]) && unknownCommand(stderr) {
		n.sub = showConfigCommands[0]
		return n.show(name)
	}
	msg = nixMessage(stderr, err)
	msg = strings.ReplaceAll(msg, filepath.Join(confDir, "nix.conf"), n.realPath)
	return nil, msg, nil
}

// shownLines finds the values of the managed settings, in the order of
// settings, in "nix config show" text output: sorted "NAME = WORDS" lines,
// an empty list printed as "NAME = ". Only those two lines are looked at:
// the output of a large nix.conf is megabytes. A setting Nix did not print
// is nil.
func shownLines(out []byte) ([][]byte, error) {
	lines := make([][]byte, len(settings))
	for i, st := range settings {
		start := -1
		if bytes.HasPrefix(out, []byte(st.name+" =")) {
			start = 0
		} else if j := bytes.Index(out, []byte("\n"+st.name+" =")); j >= 0 {
			start = j + 1
		}
		if start < 0 {
			if st == trustedKeys {
				return nil, fmt.Errorf("no trusted-public-keys line in its output")
			}
			continue
		}
		line := out[start+len(st.name)+2:]
		if j := bytes.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		lines[i] = line
	}
	return lines, nil
}

// sameWords reports whether the words of line are the values of items, in
// order, without splitting line into strings (a large nix.conf trusts a
// hundred thousand keys).
func sameWords(line []byte, items []Item) bool {
	if line == nil {
		return false
	}
	i := 0
	for len(line) > 0 {
		if isSep(line[0]) {
			line = line[1:]
			continue
		}
		j := 0
		for j < len(line) && !isSep(line[j]) {
			j++
		}
		if i == len(items) || string(line[:j]) != items[i].Value {
			return false
		}
		i++
		line = line[j:]
	}
	return i == len(items)
}

// nixMessage is what a failing nix said, without the "error: " prefix,
// warnings and the "Try 'nix --help'" line.
func nixMessage(stderr []byte, err error) string {
	var lines []string
	// Nix colours its messages when the environment asks for colour even
	// on a pipe; the colour codes are not part of the message.
	stderr = ansiEscape.ReplaceAll(stderr, nil)
	for _, l := range strings.Split(strings.TrimSpace(string(stderr)), "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.HasPrefix(l, "warning: ") || strings.HasPrefix(l, "Try '") && strings.HasSuffix(l, "for more information.") {
			continue
		}
		lines = append(lines, strings.TrimPrefix(l, "error: "))
	}
	if msg := strings.TrimSpace(strings.Join(lines, "\n")); msg != "" {
		return msg
	}
	return err.Error()
}

// rejected builds the error for a file Nix rejected with msg: first, if
// Nix fails even with no configuration at all, the problem is Nix, not the
// file; then the line, and whether Nix rejects the current file too.
func (n *nixRun) rejected(p *ApplyPlan, abs, msg string) error {
	if _, emsg, err := n.show("empty"); err == nil && emsg != "" {
		return withHint(fmt.Errorf("%s fails even without any configuration: %s", n.command(), emsg),
			"fix the Nix installation, or skip the check with --no-nix-check")
	}
	e := &NixRejectError{Path: p.Path, Command: n.command(), Msg: msg}
	e.At = n.locate(msg, p.file)
	switch {
	case p.Created:
	case !p.Changed():
		// Nothing to write: what Nix rejects is the current file.
		e.Predates, e.OrigMsg, e.OrigAt = true, msg, e.At
	default:
		orig, _ := Parse(p.Path, p.Old)
		if orig.Err() != nil {
			return withHint(e, e.hint())
		}
		if name, err := n.writeConfFile("old", abs, orig); err == nil {
			if _, omsg, err := n.show(name); err == nil && omsg != "" {
				e.Predates, e.OrigMsg = true, omsg
				e.OrigAt = n.locate(omsg, orig)
			}
		}
	}
	return withHint(e, e.hint())
}

// writeAbsIncludes writes f to w with relative include paths made
// absolute against the directory of abs, f's absolute path: Nix resolves
// them against the including file's directory, and the copy Nix checks is
// elsewhere. Lines keep their numbers. It writes line by line: a copy of
// a large file in memory would be one more allocation on apply's path to
// nix, where every fresh page costs.
func writeAbsIncludes(w io.Writer, abs string, f *File) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, l := range f.Lines {
		if l.Kind == Include && !filepath.IsAbs(l.Values[0]) {
			t := l.toks[1]
			bw.WriteString(l.Raw[:t[0]])
			bw.WriteString(IncludePath(abs, l.Values[0]))
			bw.WriteString(l.Raw[t[1]:])
			continue
		}
		bw.WriteString(l.Raw)
	}
	return bw.Flush()
}

var (
	quoted     = regexp.MustCompile(`'([^'\n]*)'`)
	ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")
)

// maxLocateRuns bounds the nix runs that tell apart several lines Nix's
// message could be about.
const maxLocateRuns = 8

// locate finds the line of f (or of a file it includes) that Nix's message
// is about. Nix quotes the setting's name, its value or both ("option
// 'sandbox' has invalid value 'maybe'", "not an absolute path: 'nix
// __build-remote'") and stops at the first bad line it loads; the lines
// that match the most quoted words are the candidates, in load order. When
// several are, nix is asked about each alone, and the first it rejects the
// same way is the one.
func (n *nixRun) locate(msg string, f *File) Pos {
	var words []string
	for _, m := range quoted.FindAllStringSubmatch(msg, -1) {
		words = append(words, m[1])
	}
	if len(words) == 0 {
		return Pos{}
	}
	type cand struct {
		pos Pos
		raw string
	}
	var cands []cand
	best := 0
	walkLines(f, func(g *File, i int) {
		l := g.Lines[i]
		if l.Kind != Setting {
			return
		}
		value := strings.Join(l.Values, " ")
		nameHit, valueHit := false, false
		for _, w := range words {
			nameHit = nameHit || w == l.Name || w == strings.TrimPrefix(l.Name, "extra-")
			valueHit = valueHit || value != "" && w == value
		}
		score := 0
		if nameHit {
			score++
		}
		if valueHit {
			score++
		}
		switch {
		case score == 0 || score < best:
			return
		case score > best:
			best, cands = score, nil
		}
		cands = append(cands, cand{Pos{File: g.Path, Line: i + 1}, l.Raw})
	})
	if len(cands) == 0 {
		return Pos{}
	}
	if len(cands) > 1 {
		for _, c := range cands[:min(len(cands), maxLocateRuns)] {
			name, err := n.writeConf("line", []byte(c.raw))
			if err != nil {
				break
			}
			if _, m, err := n.show(name); err == nil && m == msg {
				return c.pos
			}
		}
	}
	return cands[0].pos
}

// walkLines calls fn for each line Nix loads from f, in order, following
// includes from the disk (a file that cannot be read or parsed is skipped:
// this only looks for a line).
func walkLines(f *File, fn func(f *File, i int)) {
	var walk func(f *File, depth int)
	walk = func(f *File, depth int) {
		for i, l := range f.Lines {
			if l.Kind == Include && depth < maxIncludeDepth {
				p := IncludePath(f.Path, l.Values[0])
				if data, err := ReadFile(p); err == nil {
					if g, err := Parse(p, data); err == nil {
						walk(g, depth+1)
					}
				}
				continue
			}
			fn(f, i)
		}
	}
	walk(f, 0)
}
