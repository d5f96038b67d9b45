package audit

import "sync/atomic"

// progressCounter counts checked narinfos and says when to report.
type progressCounter struct{ n atomic.Int64 }

const progressEvery = 1000

func (c *progressCounter) add() (int64, bool) {
	n := c.n.Add(1)
	return n, n%progressEvery == 0
}
