package main

import (
	"flag"
	"fmt"
	"runtime/debug"

	"github.com/keyform/keyform/internal/cli"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Short: "print keyform's version",
		Setup: func(*flag.FlagSet) cli.RunFunc { return runVersion },
	}
}

// version is set at link time by release builds (-ldflags "-X main.version=v1.2.3").
var version = ""

func runVersion(e *cli.Env, args []string) error {
	if len(args) > 0 {
		return cli.Usagef("version takes no arguments")
	}
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(e.Stdout, "keyform %s\n", v)
	return nil
}
