package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"
)

func completionCommand() *command {
	return &command{
		name:  "completion",
		args:  "bash",
		short: "print a shell completion script",
		long: `Prints a bash completion script for keyform's commands. Load it with
  source <(keyform completion bash)
or save it under /etc/bash_completion.d/. zsh users can load it after
"autoload -U bashcompinit && bashcompinit".`,
		setup: func(*flag.FlagSet) runFunc { return runCompletion },
	}
}

func runCompletion(e *env, args []string) error {
	if len(args) != 1 || args[0] != "bash" {
		return usagef("completion takes one shell name: bash")
	}
	top := map[string]bool{}
	groups := map[string][]string{}
	for _, c := range commandTable() {
		g, sub, nested := strings.Cut(c.name, " ")
		top[g] = true
		if nested {
			groups[g] = append(groups[g], sub)
		}
	}
	var words []string
	for w := range top {
		words = append(words, w)
	}
	slices.Sort(words)
	fmt.Fprintf(e.stdout, `# bash completion for keyform
_keyform() {
  local cur=${COMP_WORDS[COMP_CWORD]} i cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      -C) ((i++)) ;;
      -*) ;;
      *) cmd=${COMP_WORDS[i]}; break ;;
    esac
  done
  case $cmd in
    "") COMPREPLY=($(compgen -W "%s" -- "$cur")) ;;
`, strings.Join(words, " "))
	for _, g := range words {
		if subs := groups[g]; len(subs) > 0 {
			slices.Sort(subs)
			fmt.Fprintf(e.stdout, "    %s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n", g, strings.Join(subs, " "))
		}
	}
	fmt.Fprint(e.stdout, `    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -F _keyform keyform
`)
	return nil
}
