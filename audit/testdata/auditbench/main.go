// Command auditbench runs an audit or a resign as a whole process, for
// the comparisons with nix in BENCHMARKS.md until `keyform audit` and
// `keyform resign` are wired into the CLI (see docs/audit.md). It lives
// under testdata so that ./... does not build it.
//
//	go build -o /tmp/auditbench ./audit/testdata/auditbench
//	auditbench -store file:///dir -active acme-2.pub [-retired acme-1.pub] [-paths F] [-json]
//	auditbench -store file:///dir -resign acme-2.sk [-dry-run]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/keyform/keyform/audit"
	"github.com/keyform/keyform/binarycache"
	"github.com/keyform/keyform/keys"
	"github.com/keyform/keyform/policy"
	"github.com/keyform/keyform/resign"
)

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	var active, retired files
	store := flag.String("store", "", "store URL")
	flag.Var(&active, "active", "active public key file (repeatable)")
	flag.Var(&retired, "retired", "retired public key file (repeatable)")
	pathsFile := flag.String("paths", "", "paths list (- for stdin)")
	jobs := flag.Int("jobs", 0, "jobs")
	asJSON := flag.Bool("json", false, "JSON output")
	resignKey := flag.String("resign", "", "secret key file: resign instead of audit")
	dryRun := flag.Bool("dry-run", false, "resign: write nothing")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to `file`")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	// As the keyform binary does (see BENCHMARKS.md), unless GOGC is set.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx := context.Background()
	netrc, err := binarycache.LoadNetrc(binarycache.DefaultNetrcFile())
	check(err)
	s, err := binarycache.Open(ctx, *store, binarycache.Options{HTTP: binarycache.HTTPOptions{Netrc: netrc, Conns: max(*jobs, 25)}})
	check(err)
	if *resignKey != "" {
		text, err := os.ReadFile(*resignKey)
		check(err)
		sk, err := keys.ParseSecretKey(string(text))
		check(err)
		fs, ok := s.(*binarycache.FileStore)
		if !ok {
			fmt.Println(resign.Command(*store, *resignKey, *pathsFile))
			return
		}
		r, err := resign.File(ctx, fs, resign.Options{Key: sk, Jobs: *jobs, DryRun: *dryRun})
		check(err)
		fmt.Printf("%d paths: %d signed, %d already signed, %d malformed\n", r.Paths, r.Signed, r.AlreadySigned, r.Malformed)
		return
	}
	var ks []*policy.Key
	add := func(fs files, state policy.KeyState) {
		for _, f := range fs {
			text, err := os.ReadFile(f)
			check(err)
			pub, err := keys.ParsePublicKey(string(text))
			check(err)
			ks = append(ks, &policy.Key{Label: pub.Name, Name: pub.Name, PublicKey: pub.String(), State: state})
		}
	}
	add(active, policy.Active)
	add(retired, policy.Retired)
	o := audit.Options{Catalog: "bench", Keys: ks, Jobs: *jobs}
	if *pathsFile == "-" {
		o.Paths = os.Stdin
	} else if *pathsFile != "" {
		f, err := os.Open(*pathsFile)
		check(err)
		defer f.Close()
		o.Paths = f
	}
	r, err := audit.Run(ctx, s, o)
	check(err)
	if *asJSON {
		check(audit.WriteJSON(os.Stdout, []*audit.Report{r}))
	} else {
		check(audit.WriteText(os.Stdout, []*audit.Report{r}))
	}
	if code := audit.ExitCode([]*audit.Report{r}); code != 0 {
		pprof.StopCPUProfile()
		os.Exit(code)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "auditbench: %v\n", err)
		os.Exit(2)
	}
}
