package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"strings"

	"filippo.io/age"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/ssh"
)

// identity age|ssh FILE NAME [FILE...] generates a recipient's private key
// at FILE (mode 0600) and its public key at FILE.pub, and replaces @NAME@ in the
// other files with its public key. Identities are secrets, so scripts make
// them at run time instead of committing them.
func cmdIdentity(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: identity age|ssh FILE NAME [FILE...]")
	}
	var secret []byte
	var recipient string
	switch args[0] {
	case "age":
		id, err := age.GenerateX25519Identity()
		ts.Check(err)
		recipient = id.Recipient().String()
		secret = []byte("# public key: " + recipient + "\n" + id.String() + "\n")
	case "ssh":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		ts.Check(err)
		block, err := ssh.MarshalPrivateKey(priv, args[2]+"@test")
		ts.Check(err)
		secret = pem.EncodeToMemory(block)
		sp, err := ssh.NewPublicKey(pub)
		ts.Check(err)
		recipient = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + args[2] + "@test"
	default:
		ts.Fatalf("identity: unknown kind %q (want age or ssh)", args[0])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), secret, 0o600))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]+".pub"), []byte(recipient+"\n"), 0o644))
	for _, name := range args[3:] {
		b, err := os.ReadFile(ts.MkAbs(name))
		ts.Check(err)
		b = bytes.ReplaceAll(b, []byte("@"+args[2]+"@"), []byte(recipient))
		ts.Check(os.WriteFile(ts.MkAbs(name), b, 0o644))
	}
}
