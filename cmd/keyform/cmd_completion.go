package main

import (
	"flag"

	"github.com/keyform/keyform/internal/cli"
)

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:  "completion",
		Args:  "bash",
		Short: "print a shell completion script",
		Long: `Prints a bash completion script for keyform's commands. Load it with
  source <(keyform completion bash)
or save it under /etc/bash_completion.d/. zsh users can load it after
"autoload -U bashcompinit && bashcompinit".`,
		Setup: func(*flag.FlagSet) cli.RunFunc { return runCompletion },
	}
}

func runCompletion(e *cli.Env, args []string) error {
	if len(args) != 1 || args[0] != "bash" {
		return cli.Usagef("completion takes one shell name: bash")
	}
	cli.WriteBashCompletion(e.Stdout, commandTable())
	return nil
}
