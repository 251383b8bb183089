package jobs

import (
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// retryPolicy backs off exponentially from one second, capped, with jitter
// so jobs that failed together do not all come back together. River's
// default (attempt^4 seconds) waits 16 s after a second failure, far too
// long for the transient 5xx answers a busy instance gives.
type retryPolicy struct {
	max time.Duration
}

// NextRetry implements river.ClientRetryPolicy.
func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := time.Second
	for i := 1; i < job.Attempt && d < p.max; i++ {
		d *= 2
	}
	if d > p.max {
		d = p.max
	}
	// ±20% jitter.
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return time.Now().UTC().Add(d)
}
