package payment

import (
	"context"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/svc/payment/provider"
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

// ApplyAfterAConcurrentChange reads payment id, lets meanwhile reach it
// the locked way (as a webhook does), then folds then into the row read
// before that, as ConfirmPayment does with the provider's answer, and
// returns the payment as that left it.
func ApplyAfterAConcurrentChange(ctx context.Context, s *Service, id string, meanwhile, then provider.Intent) (*paymentv1.Payment, error) {
	read, err := s.store.payment(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.apply(ctx, id, change{intent: &meanwhile}); err != nil {
		return nil, err
	}
	p, err := s.applyRead(ctx, read, change{intent: &then})
	if err != nil {
		return nil, err
	}
	return p.toProto(), nil
}
