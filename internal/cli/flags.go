package cli

import (
	"flag"
	"fmt"
	"strconv"
)

// JobsFlag declares --jobs N, which must be at least 1; unset leaves *n
// 0, the command's default.
func JobsFlag(fs *flag.FlagSet, n *int, usage string) {
	fs.Func("jobs", usage, func(v string) error {
		j, err := strconv.Atoi(v)
		if err != nil || j < 1 {
			return fmt.Errorf("%q is not a number of at least 1", v)
		}
		*n = j
		return nil
	})
}
