// Package flox renders, for each publisher with flox = true, the Flox
// configuration that makes "flox publish" sign with the publisher's key:
//
//	OUTPUT_DIR/flox/PUBLISHER.sh    the "flox config --set" command, plus the
//	                                "flox publish --signing-private-key" form
//	                                for the publisher's other keys
//	OUTPUT_DIR/flox/PUBLISHER.toml  the same setting as a flox.toml fragment
//
// Flox requires the key path to be absolute; the policy guarantees it. The
// default signing key is the first key the publisher lists. Rendering is
// pure: it reads no files and writes none.
package flox

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/render/renderer"
)

// ConfigKey is the Flox setting that names the default signing key.
const ConfigKey = "publish.signing_private_key"

// File is one rendered file.
type File struct {
	// Publisher is the publisher's label.
	Publisher string
	// Path is where the file belongs, with forward slashes, under the
	// output directory: OUTPUT_DIR/flox/LABEL.sh or .toml.
	Path    string
	Content []byte
}

// Options tune rendering.
type Options struct {
	// Source names the policy directory in headers, relative to the git
	// work tree root ("." for the root); never an absolute path.
	Source string
	// OutputDir replaces the policy's output_dir when not empty.
	OutputDir string
}

// Files renders the Flox files of every publisher with flox = true, in
// publisher order, two files each.
func Files(p *policy.Policy, o Options) ([]File, error) {
	outDir := o.OutputDir
	if outDir == "" {
		outDir = p.Settings.OutputDir
	}
	if outDir == "" {
		outDir = policy.DefaultSettings.OutputDir
	}
	var files []File
	owner := map[string]string{}
	for _, pub := range p.Publishers {
		if !pub.Flox {
			continue
		}
		// Labels differing only in case are one file on macOS.
		fold := strings.ToLower(pub.Label)
		if prev, dup := owner[fold]; dup {
			return nil, fmt.Errorf("publishers %s and %s would render to the same Flox files on case-insensitive file systems such as macOS's; rename one", prev, pub.Label)
		}
		owner[fold] = pub.Label
		script, err := Render(p, pub, o.Source)
		if err != nil {
			return nil, err
		}
		frag, err := TOML(p, pub, o.Source)
		if err != nil {
			return nil, err
		}
		base := path.Join(filepath.ToSlash(outDir), "flox", pub.Label)
		files = append(files,
			File{Publisher: pub.Label, Path: base + ".sh", Content: script},
			File{Publisher: pub.Label, Path: base + ".toml", Content: frag})
	}
	return files, nil
}

// signingKey is one of a publisher's keys with the path it is kept at.
type signingKey struct {
	key  *policy.Key
	path string
}

// keysOf returns the publisher's default key first, then its other keys
// in policy order (catalog, then Nix name).
func keysOf(p *policy.Policy, pub *policy.Publisher) (signingKey, []signingKey, error) {
	var def signingKey
	var others []signingKey
	var ks []*policy.Key
	for _, label := range pub.Keys {
		k := p.Key(label)
		if k == nil {
			return def, nil, fmt.Errorf("publisher %s: no key %q in the policy", pub.Label, label)
		}
		ks = append(ks, k)
	}
	policy.SortKeys(ks)
	for _, k := range ks {
		sk := signingKey{k, pub.KeyPath(k)}
		if sk.path == "" || !filepath.IsAbs(sk.path) {
			return def, nil, fmt.Errorf("publisher %s: key %s has no absolute private_key_path, and Flox needs one", pub.Label, k.Label)
		}
		if k.Label == pub.DefaultKey {
			def = sk
		} else {
			others = append(others, sk)
		}
	}
	if def.key == nil {
		return def, nil, fmt.Errorf("publisher %s has no default key", pub.Label)
	}
	return def, others, nil
}

func header(source, label string) string {
	if source == "" {
		source = "."
	}
	return comment(fmt.Sprintf("%s from the policy in %s; do not edit. Publisher: %s", renderer.Marker, source, label))
}

// describe says which key a line is about: "key LABEL (NAME, catalog C)".
func describe(k *policy.Key) string {
	s := "key " + k.Label + " (" + k.Name
	if k.Catalog != "" {
		s += ", catalog " + k.Catalog
	}
	return s + ")"
}

// Render returns the publisher's setup script: a POSIX sh script whose
// first line is the generated-file marker (so it has no #! line; run it
// with sh).
func Render(p *policy.Policy, pub *policy.Publisher, source string) ([]byte, error) {
	def, others, err := keysOf(p, pub)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("%s\n", header(source, pub.Label))
	w("#\n")
	w("%s\n", comment(fmt.Sprintf("Flox publish setup for publisher %q. Run it with \"sh %s.sh\" once", pub.Label, pub.Label)))
	w("%s\n", comment(fmt.Sprintf("\"keyform publisher setup %s\" has installed the keys (setup also runs", pub.Label)))
	w("# the flox config command below itself when flox is on PATH).\n")
	w("#\n")
	w("# flox config --set writes the user file $FLOX_CONFIG_DIR/flox.toml, else\n")
	w("# flox/flox.toml under $XDG_CONFIG_HOME (usually ~/.config/flox/flox.toml).\n")
	w("# FLOX_* environment variables override it; /etc/flox.toml is overridden by it.\n")
	w("%s\n", comment(fmt.Sprintf("%s.toml next to this file holds the same setting as TOML.", pub.Label)))
	w("\nset -eu\n\n")
	w("%s\n", comment("Default signing key: "+describe(def.key)))
	w("%s\n", ConfigCommand(def.path))
	if len(others) > 0 {
		w("\n%s\n", comment(fmt.Sprintf("To publish to a catalog that needs another of %s's keys, name the key", pub.Label)))
		w("# for that run (PACKAGE is the build to publish):\n")
		for _, o := range others {
			w("#\n%s\n", comment(describe(o.key)+":"))
			w("%s\n", comment("  "+PublishCommand(o.path)+" PACKAGE"))
		}
	}
	return b.Bytes(), nil
}

// TOML returns the flox.toml fragment that sets the publisher's default
// signing key, encoded by a TOML library so any path is escaped right.
func TOML(p *policy.Policy, pub *policy.Publisher, source string) ([]byte, error) {
	def, _, err := keysOf(p, pub)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n#\n", header(source, pub.Label))
	fmt.Fprintf(&b, "%s\n", comment(fmt.Sprintf("Flox's publish setting for publisher %q, as %s.sh sets it. Merge it", pub.Label, pub.Label)))
	b.WriteString("# into the user file (~/.config/flox/flox.toml, or $FLOX_CONFIG_DIR/flox.toml)\n")
	b.WriteString("# or the system file /etc/flox.toml.\n")
	fmt.Fprintf(&b, "%s\n\n", comment("Default signing key: "+describe(def.key)))
	var doc struct {
		Publish struct {
			SigningPrivateKey string `toml:"signing_private_key"`
		} `toml:"publish"`
	}
	doc.Publish.SigningPrivateKey = def.path
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("publisher %s: encode TOML: %v", pub.Label, err)
	}
	return b.Bytes(), nil
}

// ConfigArgs are the arguments of the flox command that makes path the
// default signing key, for running it without a shell.
func ConfigArgs(path string) []string {
	return []string{"config", "--set", ConfigKey, path}
}

// ConfigCommand is the same command as shell text.
func ConfigCommand(path string) string {
	return "flox config --set " + ConfigKey + " " + ShellQuote(path)
}

// PublishCommand is the start of a "flox publish" that signs with path.
func PublishCommand(path string) string {
	return "flox publish --signing-private-key " + ShellQuote(path)
}

// ShellQuote quotes s for POSIX sh: inside single quotes nothing is
// expanded, and each quote in s is written as close quote, backslash
// quote, open quote.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// comment makes s safe inside a # comment line: a line break would end
// the comment and turn the rest into a command.
func comment(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if !strings.HasPrefix(s, "#") {
		s = "# " + s
	}
	return s
}
