package cli

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestJobsFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
		err  string
	}{
		{nil, 0, ""},
		{[]string{"--jobs", "4"}, 4, ""},
		{[]string{"--jobs", "0"}, 0, `"0" is not a number of at least 1`},
		{[]string{"--jobs=x"}, 0, `"x" is not a number of at least 1`},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var n int
		JobsFlag(fs, &n, "`N` at once")
		err := fs.Parse(c.args)
		if n != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%q: n %d, err %v; want %d, %q", c.args, n, err, c.want, c.err)
		}
	}
}
