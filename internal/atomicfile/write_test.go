package atomicfile

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/keyform/keyform/internal/golden" // accept -update: go test ./... -update
)

func TestWriteReplaces(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		p := filepath.Join(t.TempDir(), "nix.conf")
		if err := os.WriteFile(p, []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Write(p, []byte("new\n"), Options{Perm: 0o640, NoSync: noSync}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		fi, _ := os.Stat(p)
		if string(b) != "new\n" || fi.Mode().Perm() != 0o640 {
			t.Errorf("NoSync %v: got %q %v", noSync, b, fi.Mode())
		}
		assertNoTemp(t, filepath.Dir(p))
	}
}

// TestWriteFailsMidway fails the write at each stage: the original file
// must be intact and the temporary file gone.
func TestWriteFailsMidway(t *testing.T) {
	for _, stage := range []string{"half", "rename", "nosync/half", "nosync/rename"} {
		t.Run(stage, func(t *testing.T) {
			noSync := strings.HasPrefix(stage, "nosync/")
			stage := strings.TrimPrefix(stage, "nosync/")
			p := filepath.Join(t.TempDir(), "nix.conf")
			orig := []byte("trusted-public-keys = a:1\n")
			if err := os.WriteFile(p, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			boom := errors.New("disk full")
			testHook = func(s string) error {
				if s == stage {
					return boom
				}
				return nil
			}
			defer func() { testHook = nil }()
			err := Write(p, bytes.Repeat([]byte("x"), 1<<20), Options{Perm: 0o644, NoSync: noSync})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want %v", err, boom)
			}
			if b, _ := os.ReadFile(p); !bytes.Equal(b, orig) {
				t.Errorf("original changed: %q", b)
			}
			assertNoTemp(t, filepath.Dir(p))
		})
	}
}

// TestKilledMidWrite kills a process while it is writing (half the data in
// the temporary file): the original must be intact. Only the temporary
// file is left behind, which no reader of the path ever sees.
func TestKilledMidWrite(t *testing.T) {
	if p := os.Getenv("ATOMICFILE_CHILD"); p != "" {
		testHook = func(stage string) error {
			if stage == "half" {
				os.Stdout.WriteString("half\n")
				time.Sleep(time.Hour) // wait to be killed
			}
			return nil
		}
		Write(p, bytes.Repeat([]byte("new content\n"), 1<<16), Options{Perm: 0o644})
		os.Exit(3) // not reached
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "nix.conf")
	orig := []byte("trusted-public-keys = a:1\n")
	if err := os.WriteFile(p, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidWrite$")
	cmd.Env = append(os.Environ(), "ATOMICFILE_CHILD="+p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "half\n" {
		cmd.Process.Kill()
		t.Fatalf("child said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if b, _ := os.ReadFile(p); !bytes.Equal(b, orig) {
		t.Errorf("original changed: %q", b)
	}
	ents, _ := os.ReadDir(dir)
	var tmp []string
	for _, e := range ents {
		if e.Name() != "nix.conf" {
			tmp = append(tmp, e.Name())
		}
	}
	if len(tmp) != 1 || !strings.HasPrefix(tmp[0], ".nix.conf.keyform-") {
		t.Errorf("files besides nix.conf: %q; want one temporary file", tmp)
	}
}

func TestWriteKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing owners needs root")
	}
	p := filepath.Join(t.TempDir(), "nix.conf")
	if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	uid, gid, ok := Owner(fi)
	if !ok {
		t.Fatal("no owner")
	}
	if err := Write(p, []byte("new\n"), Options{Perm: fi.Mode().Perm(), Chown: true, UID: uid, GID: gid}); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(p)
	if uid, gid, _ := Owner(fi); uid != 1234 || gid != 5678 {
		t.Errorf("owner %d:%d, want 1234:5678", uid, gid)
	}
}

func TestWriteRefusesOwnerItCannotKeep(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may give files away")
	}
	p := filepath.Join(t.TempDir(), "nix.conf")
	if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(p, []byte("new\n"), Options{Perm: 0o644, Chown: true, UID: 0, GID: 0})
	if err == nil {
		t.Fatal("gave the file to root without being root")
	}
	if b, _ := os.ReadFile(p); string(b) != "old\n" {
		t.Errorf("original changed: %q", b)
	}
	assertNoTemp(t, filepath.Dir(p))
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".keyform-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestDurable only checks that Durable accepts files of two directories
// and refuses a missing one; what it promises (surviving a power loss)
// cannot be observed from a test.
func TestDurable(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, sub := range []string{"a", "b"} {
		p := filepath.Join(dir, sub, "f")
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if err := Durable(paths...); err != nil {
		t.Fatal(err)
	}
	if err := Durable(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("Durable of a missing file succeeded")
	}
}
