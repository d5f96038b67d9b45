// Package seal distributes Nix signing keys to their publishers as
// age-encrypted ("sealed") files that are safe to commit, in the style of
// agenix, using filippo.io/age.
//
// A sealed key is two files in the policy's sealed_dir:
//
//	LABEL.age         the Nix secret key, encrypted with age to every
//	                  recipient of every publisher of the key, ASCII-armored
//	                  so that it is text in git; "age -d -i IDENTITY" opens it.
//	LABEL.recipients  the record: which recipients (and publishers) it is
//	                  sealed to, the key's public key, and the SHA-256 of
//	                  LABEL.age. Public, and reviewed like an access grant.
//
// age headers do not name X25519 recipients, so the record is what lets
// keyform tell, without decrypting, whether a sealed file still matches the
// policy; its hash binds it to the .age file it describes.
//
// The package works on readers, writers and policy data; it never writes a
// plaintext secret anywhere.
package seal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/keyform/keyform/internal/safefile"
	"github.com/keyform/keyform/keys"
)

// ErrNoMatch is wrapped by Open's error when none of the identities is a
// recipient of the sealed file.
var ErrNoMatch = errors.New("no identity matched any of the recipients")

// MaxSealedFileSize bounds a sealed file and its record, which come from
// git and so from anyone who can open a pull request: a sealed Nix key is
// well under 1 KiB per recipient, a record a line per recipient.
const MaxSealedFileSize = 1 << 20

// OpenFile opens a sealed file for Open, refusing anything but a regular
// file (a named pipe would block, /dev/zero never end) and files over
// MaxSealedFileSize, with an error naming the file and the limit.
func OpenFile(path string) (*os.File, error) {
	return safefile.Open(path, MaxSealedFileSize)
}

// Seal encrypts sk to every recipient (strings as ParseRecipient takes
// them) and writes an ASCII-armored age file to w.
func Seal(w io.Writer, sk *keys.SecretKey, recipients []string) error {
	if len(recipients) == 0 {
		return errors.New("no recipients to seal to")
	}
	rs := make([]age.Recipient, 0, len(recipients))
	for _, s := range recipients {
		r, err := ParseRecipient(s)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	aw := armor.NewWriter(w)
	ew, err := age.Encrypt(aw, rs...)
	if err != nil {
		return fmt.Errorf("age: %v", err)
	}
	secret := sk.Encode()
	defer clear(secret)
	if _, err := ew.Write(secret); err != nil {
		return err
	}
	if err := ew.Close(); err != nil {
		return err
	}
	return aw.Close()
}

// Open decrypts a sealed file (armored or binary age) with the first
// identity that is one of its recipients and parses the Nix secret key in
// it. It does not check the key against the policy; callers do.
func Open(r io.Reader, identities ...age.Identity) (*keys.SecretKey, error) {
	br := bufio.NewReader(io.LimitReader(r, MaxSealedFileSize))
	start, _ := br.Peek(1024)
	var src io.Reader = br
	if bytes.HasPrefix(bytes.TrimSpace(start), []byte(armor.Header)) {
		src = armor.NewReader(br)
	} else if !bytes.HasPrefix(start, []byte("age-encryption.org/")) {
		return nil, errors.New("not an age-encrypted file")
	}
	pr, err := age.Decrypt(src, identities...)
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		return nil, fmt.Errorf("%w: the file is sealed to %s, and the identity given is none of them", ErrNoMatch, describeStanzas(noMatch.StanzaTypes))
	case errors.Is(err, ErrPassphrase):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("cannot decrypt: %v", err)
	}
	plain, err := io.ReadAll(io.LimitReader(pr, 64<<10))
	defer clear(plain)
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt: %v", err)
	}
	sk, err := keys.ParseSecretKey(string(plain))
	if err != nil {
		return nil, fmt.Errorf("the sealed file decrypts, but not to a Nix secret key: %v", err)
	}
	return sk, nil
}

// describeStanzas summarises an age header's recipient stanza types, e.g.
// "2 recipients (1 X25519, 1 ssh-ed25519)".
func describeStanzas(types []string) string {
	count := map[string]int{}
	var order []string
	for _, t := range types {
		if count[t] == 0 {
			order = append(order, t)
		}
		count[t]++
	}
	slices.Sort(order)
	parts := make([]string, len(order))
	for i, t := range order {
		parts[i] = fmt.Sprintf("%d %s", count[t], t)
	}
	n := "recipients"
	if len(types) == 1 {
		n = "recipient"
	}
	return fmt.Sprintf("%d %s (%s)", len(types), n, strings.Join(parts, ", "))
}
