package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteBashCompletion writes a bash completion script for the commands:
// the top-level names, then the subcommands of each group ("keys list"),
// then file names.
func WriteBashCompletion(w io.Writer, cmds []*Command) {
	top := map[string]bool{}
	groups := map[string][]string{}
	for _, c := range cmds {
		g, sub, nested := strings.Cut(c.Name, " ")
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
	fmt.Fprintf(w, `# bash completion for keyform
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
			fmt.Fprintf(w, "    %s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n", g, strings.Join(subs, " "))
		}
	}
	fmt.Fprint(w, `    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -F _keyform keyform
`)
}
