package seal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"golang.org/x/crypto/ssh"
)

// ErrPassphrase is wrapped by errors about passphrase-protected SSH keys
// that could not be unlocked.
var ErrPassphrase = errors.New("passphrase-protected SSH key")

// ParseIdentities parses an identity file, the private half of a
// recipient. It accepts what the age CLI accepts without plugins:
//
//   - an age identity file: AGE-SECRET-KEY-1... (or AGE-SECRET-KEY-PQ-1...)
//     lines, with empty lines and # comments ignored (age-keygen writes one);
//   - an SSH private key (ed25519 or RSA) in OpenSSH or PEM format.
//
// A passphrase-protected SSH key is supported through passphrase, which is
// called only if the key is needed to decrypt a file; with a nil
// passphrase such keys are refused. Errors never contain key material.
func ParseIdentities(data []byte, passphrase func() ([]byte, error)) ([]age.Identity, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, errors.New("the identity file is empty")
	case bytes.HasPrefix(trimmed, []byte(armor.Header)), bytes.HasPrefix(trimmed, []byte("age-encryption.org/")):
		return nil, errors.New("this is an age-encrypted file, not an identity; passphrase-encrypted identity files are not supported: decrypt it first (age -d) into a private file")
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN")):
		return parseSSHIdentity(trimmed, passphrase)
	}
	// Explain the common mistakes before age's terse "unknown identity type".
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "", strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "AGE-PLUGIN-"):
			return nil, fmt.Errorf("line %d is an age plugin identity; keyform does not run age plugins: use an age X25519 identity (age-keygen) or an SSH private key", n)
		case strings.HasPrefix(line, "age1"), strings.HasPrefix(line, "ssh-"):
			return nil, fmt.Errorf("line %d is a public key (recipient), not an identity: pass the private key file, such as the one age-keygen wrote or ~/.ssh/id_ed25519", n)
		}
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not an age identity file or SSH private key: %v", err)
	}
	return ids, nil
}

func parseSSHIdentity(pemBytes []byte, passphrase func() ([]byte, error)) ([]age.Identity, error) {
	id, err := agessh.ParseIdentity(pemBytes)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		if missing.PublicKey == nil {
			return nil, fmt.Errorf("%w in the old PEM format, whose public key cannot be read without the passphrase: convert it with \"ssh-keygen -p -f FILE\" (which writes the OpenSSH format)", ErrPassphrase)
		}
		if passphrase == nil {
			return nil, fmt.Errorf("%w: keyform was given no way to ask for the passphrase", ErrPassphrase)
		}
		id := &protectedSSHIdentity{}
		ask := func() ([]byte, error) {
			pass, err := passphrase()
			id.askErr = err
			return pass, err
		}
		enc, err := agessh.NewEncryptedSSHIdentity(missing.PublicKey, pemBytes, ask)
		if err != nil {
			return nil, fmt.Errorf("SSH private key: %v", err)
		}
		id.EncryptedSSHIdentity = enc
		return []age.Identity{id}, nil
	case err != nil:
		return nil, fmt.Errorf("not a usable SSH private key (age takes ed25519 and RSA keys): %v", err)
	}
	return []age.Identity{id}, nil
}

// protectedSSHIdentity turns agessh's errors about a passphrase-protected
// key into ones that say what to do.
type protectedSSHIdentity struct {
	*agessh.EncryptedSSHIdentity
	askErr error // from the passphrase callback
}

func (i *protectedSSHIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	fileKey, err := i.EncryptedSSHIdentity.Unwrap(stanzas)
	switch {
	case err == nil, errors.Is(err, age.ErrIncorrectIdentity):
		return fileKey, err
	case i.askErr != nil:
		return nil, fmt.Errorf("%w: %w", ErrPassphrase, i.askErr)
	}
	return nil, fmt.Errorf("%w: the passphrase does not unlock it", ErrPassphrase)
}
