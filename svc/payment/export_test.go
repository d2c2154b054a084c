package payment

import (
	"context"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// RunScheduledJobsNow makes the service's scheduled jobs (a refund job
// waits refundJobDelay) due at once, as if their time had come.
func RunScheduledJobsNow(t testing.TB, s *Service) {
	t.Helper()
	ctx := context.Background()
	rc := s.jobs.River()
	res, err := rc.JobList(ctx, river.NewJobListParams().States(rivertype.JobStateScheduled).First(1000))
	if err != nil {
		t.Fatalf("list scheduled jobs: %v", err)
	}
	for _, j := range res.Jobs {
		if _, err := rc.JobRetry(ctx, j.ID); err != nil {
			t.Fatalf("make job %d due: %v", j.ID, err)
		}
	}
}
