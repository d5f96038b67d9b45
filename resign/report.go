package resign

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/keyform/keyform/audit"
)

// Write writes r in format: "json" (WriteJSON), else text (WriteText).
func Write(w io.Writer, format, store, keyName string, r *Result) error {
	if format == "json" {
		return WriteJSON(w, store, keyName, r)
	}
	WriteText(w, store, keyName, r)
	return nil
}

// WriteJSON writes r as resign --format json prints it: version 1 of the
// schema, the store and the key's name, then r's counts.
func WriteJSON(w io.Writer, store, keyName string, r *Result) error {
	b, err := json.MarshalIndent(struct {
		Version int    `json:"version"`
		Store   string `json:"store"`
		Key     string `json:"key"`
		*Result
	}{1, store, keyName, r}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// WriteText writes r for people: one line of counts, then the malformed
// narinfos it lists.
func WriteText(w io.Writer, store, keyName string, r *Result) {
	if r.DryRun {
		fmt.Fprintf(w, "would sign %d of %d narinfos in %s with %s (%d already signed, %d malformed)\n", r.Signed, r.Paths, store, keyName, r.AlreadySigned, r.Malformed)
	} else {
		fmt.Fprintf(w, "resigned %s with %s: %d narinfos, %d signed, %d already signed, %d malformed\n", store, keyName, r.Paths, r.Signed, r.AlreadySigned, r.Malformed)
	}
	for _, m := range r.MalformedExamples {
		fmt.Fprintf(w, "  %s: %s\n", m.Where, m.Problem)
	}
	if more := r.Malformed - int64(len(r.MalformedExamples)); more > 0 {
		fmt.Fprintf(w, "  ... and %d more\n", more)
	}
}

// CacheNote says, after narinfos were signed at now, when the old key can
// be retired: clients may use narinfos they cached before for Nix's
// narinfo-cache-positive-ttl. "" when nothing was signed.
func (r *Result) CacheNote(now time.Time) string {
	if r.Signed == 0 || r.DryRun {
		return ""
	}
	safe := now.Add(audit.NarinfoCacheTTL).UTC().Format(time.DateOnly)
	return fmt.Sprintf("clients may use narinfos they cached before this for up to %d days (narinfo-cache-positive-ttl): retire the old key on or after %s, or shorten the TTL on clients first",
		int(audit.NarinfoCacheTTL.Hours()/24), safe)
}

// Err reports the malformed narinfos left unsigned, nil when there are
// none.
func (r *Result) Err() error {
	switch {
	case r.Malformed == 1:
		return fmt.Errorf("1 malformed narinfo left unsigned")
	case r.Malformed > 1:
		return fmt.Errorf("%d malformed narinfos left unsigned", r.Malformed)
	}
	return nil
}
