// Package resign adds a key's signature to every narinfo of a file://
// binary cache that lacks a valid one: the backfill step of a key
// rotation. Each narinfo is replaced atomically and keeps every other
// line byte for byte; running it twice changes nothing. For caches it
// cannot write (HTTP, S3) it gives the `nix store sign` command instead.
package resign

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/keys"
)

// Options say how to resign.
type Options struct {
	// Key signs. Check it against the policy first (CheckKey).
	Key *keys.SecretKey
	// Jobs is how many narinfos are handled at once; 0 means one per core.
	Jobs int
	// DryRun counts what would be signed and writes nothing.
	DryRun bool
	// Examples is how many malformed narinfos Result lists; 0 means 5.
	Examples int
}

// Result counts what File did (or, with DryRun, would do).
type Result struct {
	// Paths counts narinfos read.
	Paths int64 `json:"paths"`
	// Signed counts narinfos that got the key's signature.
	Signed int64 `json:"signed"`
	// AlreadySigned counts narinfos that had a valid signature by the key.
	AlreadySigned int64 `json:"already_signed"`
	// Malformed counts narinfos left alone because they could not be
	// parsed, are for another store path, or were refused.
	Malformed int64 `json:"malformed"`
	// MalformedExamples lists the first few (by location) with the reason.
	MalformedExamples []Problem `json:"malformed_examples"`
	// DryRun is true when nothing was written.
	DryRun bool `json:"dry_run"`
}

// Problem is a narinfo left alone and why.
type Problem struct {
	Where   string `json:"where"`
	Problem string `json:"problem"`
}

// CheckKey proves that sk is the secret half of the policy's public key
// publicKey ("NAME:BASE64"), so a resign never signs with a key the
// clients do not trust. The error never contains secret material.
func CheckKey(sk *keys.SecretKey, publicKey string) error {
	pub, err := keys.ParsePublicKey(publicKey)
	if err != nil {
		return fmt.Errorf("policy public key: %w", err)
	}
	if !sk.Public().Equal(pub) {
		return fmt.Errorf("secret key %q does not belong to public key %s: the policy would not trust its signatures; pass the secret key of %s", sk.Name, pub, pub.Name)
	}
	return nil
}

// File signs, with o.Key, every narinfo of s that has no valid signature
// by it. A narinfo carrying an invalid signature under the key's name
// keeps it and gets a valid one as well (Nix accepts a path when any
// signature verifies). Changes are made durable with one sync at the end.
func File(ctx context.Context, s *binarycache.FileStore, o Options) (*Result, error) {
	if o.Key == nil {
		return nil, errors.New("resign: no key given")
	}
	limit := cmp.Or(o.Examples, 5)
	pub := o.Key.Public()
	storeDir := s.Info().StoreDir
	var paths, signed, already atomic.Int64
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = binarycache.DefaultJobs(s)
	}
	bad := make([][]Problem, jobs)
	badCount := make([]int64, jobs)
	_, err := binarycache.Walk(ctx, s, binarycache.WalkOptions{Jobs: jobs}, func(w int, e *binarycache.Entry) error {
		paths.Add(1)
		problem := func(msg string) error {
			badCount[w]++
			p := Problem{Where: e.Where, Problem: msg}
			i, _ := slices.BinarySearchFunc(bad[w], p, compareProblems)
			if i < limit {
				bad[w] = slices.Insert(bad[w], i, p)
				if len(bad[w]) > limit {
					bad[w] = bad[w][:limit]
				}
			}
			return nil
		}
		if e.Err != nil {
			return problem(e.Err.Error())
		}
		n, err := keys.ParseNarinfo(e.Data)
		if err != nil {
			return problem(err.Error())
		}
		if !strings.HasPrefix(n.StorePath, storeDir+"/"+e.Hash+"-") {
			return problem(fmt.Sprintf("holds StorePath %s, not a path with hash %s in %s", n.StorePath, e.Hash, storeDir))
		}
		ok, _ := pub.VerifyNarinfo(n)
		if ok {
			already.Add(1)
			return nil
		}
		if len(n.Sigs) >= keys.MaxNarinfoSigs {
			return problem(fmt.Sprintf("already has %d signatures, the most a narinfo may have", len(n.Sigs)))
		}
		sig, err := o.Key.SignNarinfo(n)
		if err != nil {
			return problem(err.Error())
		}
		if !o.DryRun {
			if err := s.Replace(e.Hash, AddSig(e.Data, sig.String())); err != nil {
				return fmt.Errorf("resign %s: %w", e.Where, err)
			}
		}
		signed.Add(1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !o.DryRun && signed.Load() > 0 {
		if err := s.Sync(); err != nil {
			return nil, fmt.Errorf("resign: sync %s: %w", s.URL(), err)
		}
	}
	r := &Result{Paths: paths.Load(), Signed: signed.Load(), AlreadySigned: already.Load(), DryRun: o.DryRun, MalformedExamples: []Problem{}}
	for w := range bad {
		r.Malformed += badCount[w]
		r.MalformedExamples = append(r.MalformedExamples, bad[w]...)
	}
	slices.SortFunc(r.MalformedExamples, compareProblems)
	if len(r.MalformedExamples) > limit {
		r.MalformedExamples = r.MalformedExamples[:limit]
	}
	return r, nil
}

func compareProblems(a, b Problem) int {
	return cmp.Or(strings.Compare(a.Where, b.Where), strings.Compare(a.Problem, b.Problem))
}

// AddSig returns narinfo text with a "Sig: sig" line added where Nix
// writes signatures: after the last Sig line, else before the CA line,
// else at the end. Every other byte is kept; a missing final newline is
// added before a line appended at the end.
func AddSig(text []byte, sig string) []byte {
	line := "Sig: " + sig + "\n"
	at := -1 // byte offset to insert at
	for off := 0; off < len(text); {
		end := bytes.IndexByte(text[off:], '\n')
		next := len(text)
		if end >= 0 {
			next = off + end + 1
		}
		l := text[off:next]
		switch {
		case bytes.HasPrefix(l, []byte("Sig:")):
			at = next
		case bytes.HasPrefix(l, []byte("CA:")) && at < 0:
			at = off
		}
		off = next
	}
	out := make([]byte, 0, len(text)+len(line)+1)
	if at < 0 || at == len(text) {
		out = append(out, text...)
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		return append(out, line...)
	}
	out = append(out, text[:at]...)
	out = append(out, line...)
	return append(out, text[at:]...)
}

// Command returns the `nix store sign` command that adds the signature
// of the key in keyFile to a cache keyform cannot write itself. With a
// paths file it signs the listed paths (HTTP caches cannot be listed);
// without, every path of the store. Arguments are quoted for a POSIX
// shell; the URL is shown without credentials.
func Command(storeURL, keyFile, pathsFile string) string {
	cmd := "nix --extra-experimental-features nix-command store sign --store " +
		shellQuote(commandURL(storeURL)) + " --key-file " + shellQuote(keyFile)
	if pathsFile == "" || pathsFile == "-" {
		if pathsFile == "-" {
			return "xargs -r " + cmd
		}
		return cmd + " --all"
	}
	return "xargs -r " + cmd + " < " + shellQuote(pathsFile)
}

// commandURL is the store URL for the command: without user information
// (credentials come from Nix's netrc-file), but with the store's
// parameters, which the command needs (an S3 bucket's region=, endpoint=,
// profile=), except secret-key=, which names a secret key file Nix would
// sign uploads with and has nothing to do here.
func commandURL(storeURL string) string {
	u, err := url.Parse(storeURL)
	if err != nil {
		return binarycache.Redact(storeURL)
	}
	u.User = nil
	u.Fragment = ""
	if u.RawQuery != "" {
		q := u.Query()
		q.Del("secret-key")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
