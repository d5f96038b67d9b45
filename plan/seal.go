package plan

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/seal"
)

// SealNotes are the notes "keyform plan" adds for keys whose sealed files
// in fsys (the policy directory) do not match the recipients p gives them,
// so that a reviewer sees that a change forgot "keyform reseal", and when
// resealing shuts a publisher out, that the key must be rotated too.
// A sealed file that does not match its record's checksum is a danger:
// someone may have swapped it. It reads the sealed files and their
// records, nothing else, and decrypts nothing.
func SealNotes(fsys fs.FS, p *policy.Policy) ([]Note, error) {
	var notes []Note
	for _, k := range p.Keys {
		st, err := seal.Check(fsys, p, k)
		if err != nil {
			return nil, fmt.Errorf("key %s: reading its sealed file: %w", k.Label, err)
		}
		switch {
		case st.Modified:
			notes = append(notes, Note{Level: Danger, Code: "sealed_file_modified", Subject: "key." + k.Label,
				Message: fmt.Sprintf("%s is not the file its record %s was written for (their SHA-256 differ): it was replaced or edited outside keyform seal, and may hold another key or be sealed to other recipients. Find out who changed it (git log -p %s), then seal the key again from a trusted copy (keyform seal --force %s).",
					k.SealedFile, seal.RecordPath(k.SealedFile), k.SealedFile, k.Label)})
		case st.State == seal.Missing, st.State == seal.Stale, st.State == seal.Orphaned:
			msg := fmt.Sprintf("the sealed private key is %s (%s): run keyform reseal %s and commit the result.", st.State, st.Change(), k.Label)
			if lost := st.LostAccess(); len(lost) > 0 {
				msg += fmt.Sprintf(" Resealing shuts out %s, who had the private key: rotate it too (keyform rotate %s).", strings.Join(lost, ", "), k.Label)
			}
			notes = append(notes, Note{Level: Warning, Code: "reseal_needed", Subject: "key." + k.Label, Message: msg})
		}
	}
	return notes, nil
}
