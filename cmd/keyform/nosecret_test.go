package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// The testscript commands of secrets_never_printed.txtar: "snapshot DIR"
// copies DIR aside; "nosecret SECRETS [DIR...]" fails when the last
// command's stdout or stderr, or a file of DIR that is new or changed
// since its snapshot, holds any 16-character run of a secret listed in
// the file SECRETS (one per line).

func snapshotPath(ts *testscript.TestScript, dir string) string {
	return filepath.Join(ts.Getenv("WORK"), ".snapshot", filepath.Base(ts.MkAbs(dir)))
}

func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: snapshot DIR")
	}
	src, dst := ts.MkAbs(args[0]), snapshotPath(ts, args[0])
	ts.Check(os.RemoveAll(dst))
	ts.Check(filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	}))
}

func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: nosecret SECRETS [DIR...]")
	}
	var secrets []string
	for _, line := range strings.Split(ts.ReadFile(args[0]), "\n") {
		if s := strings.TrimRight(strings.TrimSpace(line), "="); len(s) >= 16 {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) == 0 {
		ts.Fatalf("%s lists no secrets", args[0])
	}
	check := func(what, text string) {
		for _, s := range secrets {
			for i := 0; i+16 <= len(s); i++ {
				if strings.Contains(text, s[i:i+16]) {
					ts.Fatalf("%s shows %q, part of a secret", what, s[i:i+16])
				}
			}
		}
	}
	check("stdout", ts.ReadFile("stdout"))
	check("stderr", ts.ReadFile("stderr"))
	for _, dir := range args[1:] {
		root, snap := ts.MkAbs(dir), snapshotPath(ts, dir)
		ts.Check(filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if old, err := os.ReadFile(filepath.Join(snap, rel)); err == nil && bytes.Equal(old, b) {
				return nil // an input, unchanged
			}
			check(filepath.Join(dir, rel)+" (written)", string(b))
			return nil
		}))
	}
}
