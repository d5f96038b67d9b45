// Package keys reads, writes, signs and verifies with Nix binary-cache
// signing keys, and computes and checks the narinfo signatures that Nix
// substituters verify against trusted-public-keys.
//
// # Key formats
//
// Nix keys are ed25519 keys written as one line of text:
//
//	secret: NAME:BASE64(seed || public key)   (64 bytes, 88 base64 characters)
//	public: NAME:BASE64(public key)           (32 bytes, 44 base64 characters)
//
// BASE64 is the standard alphabet (A-Z a-z 0-9 + /) with '=' padding, and
// keyform requires canonical padding even though Nix itself is laxer. A
// single trailing "\n" (as found at the end of a key file) is tolerated by
// the parsers; CR, inner line breaks and anything else are errors.
//
// # Key names
//
// NAME must be 1 to 255 characters from the allowed set
//
//	A-Z a-z 0-9 . _ + -
//
// Nix itself accepts any name when generating keys, but names containing
// ':', whitespace or '#' cannot be used in nix.conf, so keyform refuses them
// (see [ValidateName]).
//
// # Secret key hygiene
//
// Errors returned by [ParseSecretKey] never contain any part of the key
// material that was passed in, and a [SecretKey] prints as
// "NAME:<secret key redacted>" with every fmt verb, so logging one by
// accident is safe. Use [SecretKey.Encode] to obtain the real key text.
// Unlike Nix 2.8 (and like Lix), [ParseSecretKey] checks that the public half
// stored in a secret key matches the one derived from its seed.
//
// # Narinfo signatures
//
// A narinfo signature is an ed25519 signature over the fingerprint
//
//	1;STOREPATH;sha256:NIX32NARHASH;NARSIZE;REF1,REF2,...
//
// with full store paths and the references sorted (see [NarFingerprint]).
// NAR hashes are normalised to Nix's base-32 ("nix32") form, which uses the
// alphabet 0123456789abcdfghijklmnpqrsvwxyz.
package keys
