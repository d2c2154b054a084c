package payment

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/proto"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

// refundJobDelay is when the refund job looks at a refund its RPC recorded:
// long after the RPC's own provider call has settled it, normally.
const refundJobDelay = time.Minute

// RefundPayment implements PaymentService. A refund is made in three steps
// that survive a crash between any two:
//
//  1. one transaction records the refund as pending, holds its amount on
//     the payment (a guarded update, so concurrent refunds never exceed
//     the payment) and enqueues a refund job;
//  2. the provider is asked, with a key derived from the refund's id;
//  3. a second transaction records the answer (through apply).
//
// The job, running later, does steps 2 and 3 for a refund still pending,
// and nothing for one already settled.
func (s *Service) RefundPayment(ctx context.Context, req *paymentv1.RefundPaymentRequest) (*paymentv1.RefundPaymentResponse, error) {
	r, err := s.recordRefund(ctx, req)
	if err != nil {
		return nil, err
	}
	if r.Status == refundPending {
		if r, err = s.executeRefund(ctx, r); err != nil {
			return nil, err
		}
	}
	if r.Status == refundFailed {
		return nil, errs.FailedPreconditionf("the payment provider refused the refund; nothing was refunded")
	}
	p, err := s.store.payment(ctx, r.PaymentID)
	if err != nil {
		return nil, err
	}
	return &paymentv1.RefundPaymentResponse{
		Payment:      p.toProto(),
		RefundAmount: &typev1.Money{Amount: r.Amount, Currency: p.Currency},
	}, nil
}

// recordRefund is step 1: it returns the refund an earlier call with the
// same key made, or records a new one.
func (s *Service) recordRefund(ctx context.Context, req *paymentv1.RefundPaymentRequest) (*refundRow, error) {
	key := req.GetIdempotencyKey()
	hash := refundHash(req)
	if r, err := s.replayRefund(ctx, key, hash); err != nil || r != nil {
		return r, err
	}
	p, err := s.store.payment(ctx, req.GetPaymentId())
	if err != nil {
		return nil, err
	}
	amount := req.GetAmount()
	if amount == 0 {
		amount = p.Amount - p.Refunded
	}
	if err := refundable(p, amount); err != nil {
		return nil, err
	}
	now := micros(s.now())
	r := &refundRow{
		ID: newID(), PaymentID: p.ID, Amount: amount, Reason: req.GetReason(), Status: refundPending,
		IdempotencyKey: key, RequestHash: hash, CreatedAt: now, UpdatedAt: now,
	}
	err = s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.insertRefund(ctx, tx, r); err != nil {
			return err
		}
		held, err := s.store.holdRefund(ctx, tx, p.ID, amount, now)
		if err != nil {
			return err
		}
		if !held {
			// A concurrent refund got there first: say what is left now.
			cur, err := s.store.paymentTx(ctx, tx, p.ID)
			if err != nil {
				return err
			}
			if err := refundable(cur, amount); err != nil {
				return err
			}
			return errs.Abortedf("the payment changed while the refund was recorded; retry")
		}
		return s.jobs.InsertTx(ctx, tx, refundArgs{RefundID: r.ID}, &river.InsertOpts{ScheduledAt: time.Now().Add(refundJobDelay)})
	})
	if db.IsUniqueViolation(err) {
		// A concurrent call with the same key recorded its refund first.
		return s.replayRefund(ctx, key, hash)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// refundable checks that amount may be refunded from p now.
func refundable(p *paymentRow, amount int64) error {
	if p.Status != statusSucceeded {
		return errs.FailedPreconditionf("payment %q is %s; only a succeeded payment can be refunded", p.ID, statusName(p.Status))
	}
	remaining := p.Amount - p.Refunded
	if remaining == 0 {
		return errs.FailedPreconditionf("payment %q is already fully refunded", p.ID)
	}
	if amount > remaining {
		return errs.FailedPreconditionf("refund of %d exceeds what remains refundable: %d (%s minor units)", amount, remaining, p.Currency)
	}
	return nil
}

// replayRefund returns the refund an earlier RefundPayment with key made,
// or nil when there is none.
func (s *Service) replayRefund(ctx context.Context, key, hash string) (*refundRow, error) {
	r, err := s.store.refundByKey(ctx, key)
	if err != nil || r == nil {
		return nil, err
	}
	if r.RequestHash != hash {
		return nil, errs.Conflictf("idempotency_key %q was already used for another refund", key)
	}
	return r, nil
}

func refundHash(req *paymentv1.RefundPaymentRequest) string {
	clone := proto.CloneOf(req)
	clone.IdempotencyKey = ""
	return digest(clone)
}

// executeRefund is steps 2 and 3 for a pending refund, and returns it
// settled. A provider that cannot be reached (or fails in a way that may
// yet succeed) leaves it pending, for a retry with the same key or the job.
func (s *Service) executeRefund(ctx context.Context, r *refundRow) (*refundRow, error) {
	p, err := s.store.payment(ctx, r.PaymentID)
	if err != nil {
		return nil, err
	}
	res, err := s.provider.Refund(ctx, provider.Refund{
		IntentID: p.ProviderPaymentID, Amount: r.Amount, IdempotencyKey: providerKey("refund", r.ID),
	})
	st := settlement{refundID: r.ID}
	switch {
	case err == nil && (res.Status == "failed" || res.Status == "canceled"):
		st.refused = true
		s.log.WarnContext(ctx, "payment provider refused a refund", "refund", r.ID, "payment", p.ID, "status", res.Status)
	case err == nil:
		st.providerRefundID = res.ID
	case errs.Is(err, errs.FailedPrecondition), errs.Is(err, errs.Invalid), errs.Is(err, errs.NotFound):
		st.refused = true
		s.log.WarnContext(ctx, "payment provider refused a refund", "refund", r.ID, "payment", p.ID, "err", err)
	default:
		return nil, &errs.Error{
			Kind:    errs.Unavailable,
			Message: "the refund is recorded but the payment provider did not take it; it is retried automatically, or retry with the same idempotency_key",
			Err:     err,
		}
	}
	if _, err := s.apply(ctx, p.ID, change{refund: &st}); err != nil {
		return nil, err
	}
	// Re-read: whoever settled the refund first decided its outcome.
	return s.store.refund(ctx, r.ID)
}

// refundArgs asks the refund job to finish a refund.
type refundArgs struct {
	RefundID string `json:"refund_id"`
}

// Kind implements river.JobArgs.
func (refundArgs) Kind() string { return "payment_refund" }

// refundWorker finishes refunds their RPC did not: the process died after
// recording one, or the provider could not be reached.
type refundWorker struct {
	river.WorkerDefaults[refundArgs]
	svc *Service
}

// Work settles the job's refund if it is still pending; an error makes
// River retry with backoff.
func (w *refundWorker) Work(ctx context.Context, job *river.Job[refundArgs]) error {
	r, err := w.svc.store.refund(ctx, job.Args.RefundID)
	if err != nil {
		return err
	}
	if r.Status != refundPending {
		return nil
	}
	_, err = w.svc.executeRefund(ctx, r)
	return err
}
