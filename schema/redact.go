package schema

import (
	"bytes"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// looksSecret reports whether text decodes to the 64 bytes of a secret key
// even though it does not parse (for example with a bad name), so it is
// redacted all the same.
func looksSecret(text string) bool {
	_, b64, ok := strings.Cut(text, ":")
	return ok && len(b64) >= 86
}

// redact overwrites the key material inside a string expression in the
// parsed source, so diagnostic snippets never print a pasted secret key.
// The bytes are replaced one for one, keeping every range valid.
func (l *loader) redact(r hcl.Range) {
	f := l.fileByName[r.Filename]
	if f == nil || r.End.Byte > len(f.Bytes) {
		return
	}
	src := f.Bytes[r.Start.Byte:r.End.Byte]
	for i := bytes.IndexByte(src, ':') + 1; i < len(src); i++ {
		if src[i] != '"' {
			src[i] = '*'
		}
	}
}
