package main

import (
	"flag"
	"fmt"
	"runtime/debug"
)

func versionCommand() *command {
	return &command{
		name:  "version",
		short: "print keyform's version",
		setup: func(*flag.FlagSet) runFunc { return runVersion },
	}
}

// version is set at link time by release builds (-ldflags "-X main.version=v1.2.3").
var version = ""

func runVersion(e *env, args []string) error {
	if len(args) > 0 {
		return usagef("version takes no arguments")
	}
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(e.stdout, "keyform %s\n", v)
	return nil
}
