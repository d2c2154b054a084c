package jobs

import (
	"time"

	"github.com/riverqueue/river/rivertype"
)

// Backoff is a retry policy (Config.RetryPolicy) that waits Base after a
// job's first failure, then doubles the wait each time, up to Max: most
// failures are a peer restarting, so the first retries come soon.
type Backoff struct {
	Base, Max time.Duration
}

// NextRetry implements river.ClientRetryPolicy.
func (b Backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(b.wait(job.Attempt))
}

// wait is the pause after the given (1-based) failed attempt.
func (b Backoff) wait(attempt int) time.Duration {
	d := b.Base << min(max(attempt-1, 0), 30)
	if d <= 0 || d > b.Max { // past Max, or so far past it that it overflowed
		return b.Max
	}
	return d
}
