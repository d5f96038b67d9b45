package keys

import (
	"fmt"
	"io"
)

// Prove reports whether sk is the secret key of pk. It signs a fresh
// random message (32 bytes read from rand) with sk and verifies the
// signature with pk, which is what a substituter does with what sk signs,
// and also requires the public halves to be equal, names included: Nix
// looks keys up by name. A false result is a mismatch; an error means rand
// failed.
func Prove(sk *SecretKey, pk *PublicKey, rand io.Reader) (bool, error) {
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return false, fmt.Errorf("read random message: %w", err)
	}
	msg := append([]byte("keyform key proof "+pk.Name+" "), nonce...)
	return pk.Verify(msg, sk.Sign(msg)) && sk.Public().Equal(pk), nil
}
