// Package redact finds secrets in text and hides them: Nix secret keys
// (whole, truncated, or split over lines inside a quoted string), age
// identities, PEM private keys and the credentials in URLs. It is the one
// mechanism keyform uses for "secrets are never printed": schema masks
// policy files with it before HCL ever sees them, so no diagnostic snippet
// can show a secret, and the keyform command routes its output through a
// Writer as a last safety net.
//
// What counts as a Nix secret key, and why:
//
//   - "NAME:" followed by 44 or more base64 characters. A public key is 43
//     characters plus "=" (32 bytes), so 44 characters are already more
//     than any public key holds: a prefix of a secret key, whose first 43
//     characters are the whole ed25519 seed. A fingerprint ("SHA256:" and
//     43 characters) stays.
//   - Inside a quoted string ("NAME:... or 'NAME:...), the base64 may go on
//     after a line break (or a \n escape) and indentation: a secret pasted
//     with a newline in it.
//   - Bare base64 of exactly 64 bytes whose second half is the public key
//     of its first: a whole secret key without its name.
//
// And what does not, so that real output survives: runs without an
// upper-case letter (nix32 and hex hashes, store paths, age1 and other
// bech32 text: a run of 44 random base64 characters has none with
// probability 1e-10), URLs (a known scheme followed by "//"), and a
// 64-byte value whose halves do not match and whose second half is a
// canonical ed25519 scalar: a narinfo signature (Sig: NAME:...).
package redact

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
)

// Kind says what a Finding is.
type Kind int

const (
	// SecretKey is a whole Nix secret key (64 bytes of key material, or
	// more).
	SecretKey Kind = iota + 1
	// TruncatedSecretKey is a prefix of a Nix secret key: more key
	// material than a public key holds, less than a secret key.
	TruncatedSecretKey
	// AgeIdentity is an age secret key (AGE-SECRET-KEY-1..., or a plugin
	// identity AGE-PLUGIN-...).
	AgeIdentity
	// PrivateKeyBlock is the body of a PEM or OpenSSH private key.
	PrivateKeyBlock
	// URLCredentials is the user information of a URL: a password
	// (user:password@), or any user@ outside ssh URLs, where it is a token.
	URLCredentials
)

// String describes the kind for messages: "a Nix secret key".
func (k Kind) String() string {
	switch k {
	case SecretKey:
		return "a Nix secret key"
	case TruncatedSecretKey:
		return "a truncated Nix secret key"
	case AgeIdentity:
		return "an age secret key"
	case PrivateKeyBlock:
		return "a private key"
	case URLCredentials:
		return "credentials in a URL"
	}
	return "a secret"
}

// Markers replace what String and Writer redact.
const (
	Marker            = "<secret key redacted>"
	CredentialsMarker = "<credentials redacted>"
)

// Finding is one secret in a text.
type Finding struct {
	Kind Kind
	// Start and End are the byte offsets of the secret part: the key
	// material after "NAME:" (with its padding, and any line breaks it
	// spans), the data of an age identity after its "-1", the body of a
	// private key block, the user information of a URL.
	Start, End int
	// Line is the 1-based line of Start.
	Line int
	// Name is the key name before ':' of a Nix key, "" otherwise.
	Name string
}

// Find returns the secrets in b, in order, without overlaps.
func Find(b []byte) []Finding {
	fs, _ := find(b, true)
	return fs
}

// Mask overwrites every secret in b with '*', byte for byte, so that
// offsets, lines and columns into b stay valid; line breaks, spaces and
// \n escapes inside a secret are kept. It returns what it masked.
func Mask(b []byte) []Finding {
	fs := Find(b)
	for _, f := range fs {
		maskRange(b[f.Start:f.End])
	}
	return fs
}

func maskRange(b []byte) {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\' && i+1 < len(b) && (b[i+1] == 'n' || b[i+1] == 'r'):
			i++
		case c == '\n' || c == '\r' || c == ' ' || c == '\t':
		default:
			b[i] = '*'
		}
	}
}

// String returns s with every secret replaced by Marker (or
// CredentialsMarker).
func String(s string) string {
	fs := Find([]byte(s))
	if len(fs) == 0 {
		return s
	}
	return string(replace([]byte(s), fs))
}

// Bytes is String for a byte slice; it returns b itself when it holds no
// secret.
func Bytes(b []byte) []byte {
	fs := Find(b)
	if len(fs) == 0 {
		return b
	}
	return replace(b, fs)
}

func replace(b []byte, fs []Finding) []byte {
	var out bytes.Buffer
	out.Grow(len(b))
	last := 0
	for _, f := range fs {
		out.Write(b[last:f.Start])
		if f.Kind == URLCredentials {
			out.WriteString(CredentialsMarker)
		} else {
			out.WriteString(Marker)
		}
		last = f.End
	}
	out.Write(b[last:])
	return out.Bytes()
}

// ClassifyKeyText says whether s, the text of something that should be a
// Nix public key (an attribute, a .pub file), holds secret key material: 0
// when not, else SecretKey or TruncatedSecretKey. It is laxer than Find
// about where the key material is, since the field says what it is: it
// may be split over lines (and indented), the name may be missing, and any
// case goes.
func ClassifyKeyText(s string) Kind {
	// Join the lines (raw, or \n escapes) without their indentation.
	lines := strings.FieldsFunc(strings.NewReplacer("\\n", "\n", "\\r", "\n").Replace(s), func(r rune) bool { return r == '\n' || r == '\r' })
	for i, line := range lines {
		lines[i] = strings.TrimSpace(line)
	}
	s = strings.Join(lines, "")
	if _, after, ok := strings.Cut(s, ":"); ok {
		s = after
	}
	s = strings.TrimRight(s, "=")
	for i := 0; i < len(s); i++ {
		if !isB64(s[i]) {
			return 0
		}
	}
	switch {
	case len(s) >= 86:
		return SecretKey
	case len(s) >= 44:
		return TruncatedSecretKey
	}
	return 0
}

// Character classes as tables: the scan looks at every byte of what
// keyform prints.
var b64Chars, nameChars [256]bool

func init() {
	for c := range 256 {
		alnum := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		b64Chars[c] = alnum || c == '+' || c == '/'
		nameChars[c] = alnum || c == '.' || c == '_' || c == '+' || c == '-'
	}
}

func isB64(c byte) bool { return b64Chars[c] }

// authorityEnd are the bytes that end a URL's authority, or the URL.
var authorityEnd = func() (t [256]bool) {
	for _, c := range []byte("/?#\"' \t\r\n<>()[]{}`") {
		t[c] = true
	}
	return t
}()

func isNameChar(c byte) bool { return nameChars[c] }

// minSecretChars is the shortest run of base64 characters taken for key
// material: one more than a public key (or fingerprint) has.
const minSecretChars = 44

// urlSchemes are names that, followed by "//", start a URL rather than a
// key. A key named "https" would be absurd.
var urlSchemes = map[string]bool{
	"http": true, "https": true, "file": true, "s3": true, "gs": true, "ssh": true, "ssh-ng": true,
	"ftp": true, "ftps": true, "git": true, "git+https": true, "git+ssh": true, "git+file": true,
	"daemon": true, "unix": true, "local": true, "ws": true, "wss": true, "sftp": true, "rsync": true,
}

var (
	ageIdentityRe = regexp.MustCompile(`(?i)AGE-(?:SECRET-KEY(?:-PQ)?|PLUGIN-[0-9A-Z._+-]*?)-1[0-9A-Z]{8,}`)
	pemBeginRe    = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----`)
	pemEndRe      = regexp.MustCompile(`-----END [A-Z0-9 ]*PRIVATE KEY-----`)
)

// find returns the findings in b and, unless final, hold: the offset from
// which b might hold the start of a secret that goes on past its end (a
// Writer keeps those bytes back until it knows). hold is len(b) when
// nothing is open.
func find(b []byte, final bool) (fs []Finding, hold int) {
	hold = len(b)
	add := func(f Finding) { fs = append(fs, f) }
	lineAt := newLiner(b)

	// Nix keys: at every ':', look back for a name and forward for key
	// material.
	for i := bytes.IndexByte(b, ':'); i >= 0; {
		nameStart := i
		for nameStart > 0 && isNameChar(b[nameStart-1]) {
			nameStart--
		}
		quoted := nameStart > 0 && (b[nameStart-1] == '"' || b[nameStart-1] == '\'')
		end, chars, open := scanKey(b, i+1, quoted)
		if open && !final {
			hold = min(hold, nameStart)
		}
		if chars >= minSecretChars {
			name := string(b[nameStart:i])
			if k := classifyRun(b, i+1, end, chars, name); k != 0 {
				add(Finding{Kind: k, Start: i + 1, End: end, Line: lineAt(i + 1), Name: name})
			}
		}
		next := bytes.IndexByte(b[max(end, i+1):], ':')
		if next < 0 {
			break
		}
		i = max(end, i+1) + next
	}

	// Bare secret keys: a run of exactly 86 base64 characters (and
	// padding) that is seed || public key.
	for i := 0; i < len(b); {
		if !isB64(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && isB64(b[j]) {
			j++
		}
		end := j
		for end < len(b) && end-j < 2 && b[end] == '=' {
			end++
		}
		if j-i == 86 && (i == 0 || b[i-1] != ':') && isSecretPair(b[i:j]) {
			add(Finding{Kind: SecretKey, Start: i, End: end, Line: lineAt(i)})
		}
		i = j
	}

	// The regular expressions cost more than the rest together: run them
	// only where their fixed text is.
	var ageMatches, pemMatches [][]int
	if bytes.Contains(b, []byte("AGE-")) || bytes.Contains(b, []byte("age-")) {
		ageMatches = ageIdentityRe.FindAllIndex(b, -1)
	}
	if bytes.Contains(b, []byte("PRIVATE KEY-----")) {
		pemMatches = pemBeginRe.FindAllIndex(b, -1)
	}
	for _, m := range ageMatches {
		start := m[0] + bytes.LastIndex(b[m[0]:m[1]], []byte("-1")) + 2
		add(Finding{Kind: AgeIdentity, Start: start, End: m[1], Line: lineAt(start)})
	}

	for _, m := range pemMatches {
		end := pemEndRe.FindIndex(b[m[1]:])
		switch {
		case end != nil:
			add(Finding{Kind: PrivateKeyBlock, Start: m[1], End: m[1] + end[0], Line: lineAt(m[1])})
		case final:
			add(Finding{Kind: PrivateKeyBlock, Start: m[1], End: len(b), Line: lineAt(m[1])})
		default:
			hold = min(hold, m[0])
		}
	}

	fs = append(fs, findURLCredentials(b, lineAt)...)

	return merge(fs), hold
}

// scanKey reads key material from b[i:]: base64 characters, across line
// breaks when quoted, then '=' padding. It returns where the material ends,
// how many base64 characters it has, and whether it reached the end of b
// where more could follow.
func scanKey(b []byte, i int, quoted bool) (end, chars int, open bool) {
	for {
		for i < len(b) && isB64(b[i]) {
			i++
			chars++
		}
		if !quoted || chars == 0 {
			break
		}
		// Inside a quoted string, a line break (raw or escaped) and the
		// indentation after it may split the material.
		j, broke := i, false
		for j < len(b) {
			switch {
			case b[j] == '\r' || b[j] == '\n':
				j++
				broke = true
				continue
			case b[j] == '\\' && j+1 < len(b) && (b[j+1] == 'n' || b[j+1] == 'r'):
				j += 2
				broke = true
				continue
			case broke && (b[j] == ' ' || b[j] == '\t'):
				j++
				continue
			}
			break
		}
		if !broke {
			break
		}
		if j == len(b) {
			return i, chars, true
		}
		if !isB64(b[j]) {
			break
		}
		i = j
	}
	open = i == len(b)
	for i < len(b) && b[i] == '=' {
		i++
	}
	return i, chars, open
}

// classifyRun decides whether the key material b[start:end] (chars base64
// characters) after "name:" is a secret.
func classifyRun(b []byte, start, end, chars int, name string) Kind {
	if chars < minSecretChars {
		return 0
	}
	run := b[start:end]
	if urlSchemes[strings.ToLower(name)] && bytes.HasPrefix(run, []byte("//")) {
		return 0
	}
	hasUpper := false
	var clean []byte
	for _, c := range run {
		if isB64(c) {
			clean = append(clean, c)
			hasUpper = hasUpper || 'A' <= c && c <= 'Z'
		}
	}
	if !hasUpper {
		return 0
	}
	switch {
	case chars == 86:
		raw, err := base64.RawStdEncoding.DecodeString(string(clean))
		if err == nil && len(raw) == 64 && !pairMatches(raw) && isCanonicalScalar(raw[32:]) {
			return 0 // a signature: R || S with S < L
		}
		return SecretKey
	case chars > 86:
		return SecretKey
	}
	return TruncatedSecretKey
}

// isSecretPair reports whether the 86 base64 characters b decode to an
// ed25519 seed followed by its public key.
func isSecretPair(b []byte) bool {
	raw, err := base64.RawStdEncoding.DecodeString(string(b))
	return err == nil && len(raw) == 64 && pairMatches(raw)
}

func pairMatches(raw []byte) bool {
	priv := ed25519.NewKeyFromSeed(raw[:32])
	return bytes.Equal(priv[32:], raw[32:])
}

// groupOrder is ed25519's L, little-endian. A signature's S is below it.
var groupOrder = [32]byte{
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
}

func isCanonicalScalar(s []byte) bool {
	for i := 31; i >= 0; i-- {
		switch {
		case s[i] < groupOrder[i]:
			return true
		case s[i] > groupOrder[i]:
			return false
		}
	}
	return false
}

// findURLCredentials finds the user information of URLs: everything
// between "://" and the last '@' of the authority, when it holds a
// password or the scheme is not an ssh one (whose user@ is no secret).
func findURLCredentials(b []byte, lineAt func(int) int) []Finding {
	var fs []Finding
	for off := 0; ; {
		k := bytes.Index(b[off:], []byte("://"))
		if k < 0 {
			return fs
		}
		k += off
		off = k + 3
		s := k
		for s > 0 && (isNameChar(b[s-1])) {
			s--
		}
		scheme := strings.ToLower(string(b[s:k]))
		if scheme == "" {
			continue
		}
		a := k + 3
		e := a
		for e < len(b) && !authorityEnd[b[e]] {
			e++
		}
		at := bytes.LastIndexByte(b[a:e], '@')
		if at <= 0 {
			continue
		}
		userinfo := b[a : a+at]
		if bytes.IndexByte(userinfo, ':') < 0 && strings.Contains(scheme, "ssh") {
			continue
		}
		fs = append(fs, Finding{Kind: URLCredentials, Start: a, End: a + at, Line: lineAt(a)})
		off = e
	}
}

// merge sorts findings and joins overlapping ones, keeping the first kind.
func merge(fs []Finding) []Finding {
	if len(fs) < 2 {
		return fs
	}
	sortFindings(fs)
	out := fs[:1]
	for _, f := range fs[1:] {
		last := &out[len(out)-1]
		if f.Start < last.End {
			last.End = max(last.End, f.End)
			continue
		}
		out = append(out, f)
	}
	return out
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int { return a.Start - b.Start })
}

// newLiner returns a function giving the 1-based line of an offset; calls
// with increasing offsets are cheap.
func newLiner(b []byte) func(int) int {
	pos, line := 0, 1
	return func(off int) int {
		if off < pos {
			pos, line = 0, 1
		}
		line += bytes.Count(b[pos:off], []byte("\n"))
		pos = off
		return line
	}
}

// MaskValue overwrites, byte for byte, everything in b (the source of a
// value that should have been a public key or recipient but is not) that
// could be key material: all of it after the first ':' (all of it when
// there is none), except quotes, line breaks and the \n escape. The name
// before ':' stays, so a message can still be matched to its key.
func MaskValue(b []byte) {
	start := bytes.IndexByte(b, ':') + 1
	for i := start; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\' && i+1 < len(b) && (b[i+1] == 'n' || b[i+1] == 'r'):
			i++
		case c == '"' || c == '\'' || c == '\n' || c == '\r':
		default:
			b[i] = '*'
		}
	}
}

// KeyMaterialChars counts the base64 characters after the first ':' of s
// (in all of s when there is none): how much key material a value that
// failed to parse as a key could hold. Below 16 (12 bytes, leaving 160
// bits of a seed unknown) it is safe to show.
func KeyMaterialChars(s string) int {
	_, after, ok := strings.Cut(s, ":")
	if !ok {
		after = s
	}
	n := 0
	for i := 0; i < len(after); i++ {
		if isB64(after[i]) {
			n++
		}
	}
	return n
}
