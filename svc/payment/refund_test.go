package payment_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

func (e *env) refund(id string, amount int64, key string) (*paymentv1.RefundPaymentResponse, error) {
	return e.internal.RefundPayment(context.Background(), &paymentv1.RefundPaymentRequest{
		PaymentId: id, Amount: amount, Reason: "customer returned it", IdempotencyKey: key,
	})
}

// refundTotals reads refund totals as stored: payments.refunded, the sum of
// succeeded refunds, and what is still pending.
func (e *env) refundTotals(t *testing.T, id string) (held, succeeded, pending int) {
	t.Helper()
	held = e.count(t, "SELECT refunded FROM payments WHERE id = ?", id)
	succeeded = e.count(t, "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE payment_id = ? AND status = 2", id)
	pending = e.count(t, "SELECT refund_pending FROM payments WHERE id = ?", id)
	return held, succeeded, pending
}

func TestFullRefund(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.paid(t, "checkout-1", 1000)
		res, err := e.refund(p.GetId(), 0, "refund-1")
		if err != nil {
			t.Fatal(err)
		}
		if res.GetRefundAmount().GetAmount() != 1000 || res.GetRefundAmount().GetCurrency() != "USD" ||
			res.GetPayment().GetRefunded().GetAmount() != 1000 || res.GetPayment().GetStatus() != succeeded {
			t.Errorf("full refund: refund_amount %v, payment %v", res.GetRefundAmount(), res.GetPayment())
		}
		_, err = e.refund(p.GetId(), 0, "refund-2")
		if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "fully refunded") {
			t.Errorf("refund of a refunded payment: %v, want failed_precondition", err)
		}
		evs := e.settledEvents(t, p.GetId())
		if summary(evs) != "[PAYMENT_STATUS_SUCCEEDED/0 PAYMENT_STATUS_SUCCEEDED/1000]" {
			t.Errorf("events %s, want succeeded then refunded 1000", summary(evs))
		}
	})
}

func TestPartialRefundsAreIdempotentAndBounded(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.paid(t, "checkout-1", 1000)
		steps := []struct {
			name         string
			amount       int64
			key          string
			wantCode     connect.Code // 0 for success
			wantMsg      string
			wantRefund   int64
			wantRefunded int64
		}{
			{"first part", 300, "refund-1", 0, "", 300, 300},
			{"the same again", 300, "refund-1", 0, "", 300, 300},
			{"the same key, another amount", 400, "refund-1", connect.CodeAlreadyExists, "idempotency_key", 0, 0},
			{"second part", 200, "refund-2", 0, "", 200, 500},
			{"more than remains", 600, "refund-3", connect.CodeFailedPrecondition, "remains refundable: 500", 0, 0},
			{"the rest", 0, "refund-4", 0, "", 500, 1000},
		}
		for _, s := range steps {
			res, err := e.refund(p.GetId(), s.amount, s.key)
			if s.wantCode != 0 {
				if code(err) != s.wantCode || !strings.Contains(err.Error(), s.wantMsg) {
					t.Errorf("%s: %v, want %v with %q", s.name, err, s.wantCode, s.wantMsg)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if got, refunded := res.GetRefundAmount().GetAmount(), res.GetPayment().GetRefunded().GetAmount(); got != s.wantRefund || refunded != s.wantRefunded {
				t.Errorf("%s: refund_amount %d, refunded %d; want %d and %d", s.name, got, refunded, s.wantRefund, s.wantRefunded)
			}
		}
		if n := e.spy.count("Refund"); n != 3 {
			t.Errorf("%d provider refunds, want 3", n)
		}
		// The refund jobs, when their time comes, find nothing to do.
		payment.RunScheduledJobsNow(t, e.svc)
		e.waitJobs(t, "payment_refund")
		if n := e.spy.count("Refund"); n != 3 {
			t.Errorf("%d provider refunds after the refund jobs ran, want 3", n)
		}
		if evs := e.settledEvents(t, p.GetId()); summary(evs) != "[PAYMENT_STATUS_SUCCEEDED/0 PAYMENT_STATUS_SUCCEEDED/300 PAYMENT_STATUS_SUCCEEDED/500 PAYMENT_STATUS_SUCCEEDED/1000]" {
			t.Errorf("events %s", summary(evs))
		}
	})
}

func TestRefundNeedsASucceededPayment(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		open := e.create(t, "checkout-1", 1000)
		declined := e.confirm(t, e.create(t, "checkout-2", 1000).GetId(), provider.TestMethodDeclines, "confirm-2")
		for _, p := range []*paymentv1.Payment{open, declined} {
			_, err := e.refund(p.GetId(), 100, "refund-"+p.GetId())
			if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "only a succeeded payment") {
				t.Errorf("refund of a %s payment: %v, want failed_precondition", p.GetStatus(), err)
			}
		}
		if _, err := e.refund("no-such-payment", 100, "refund-x"); code(err) != connect.CodeNotFound {
			t.Errorf("refund of an unknown payment: %v, want not_found", err)
		}
		if n := e.count(t, "SELECT count(*) FROM refunds"); n != 0 {
			t.Errorf("%d refunds stored, want 0", n)
		}
	})
}

// The same refund asked for five times at once is made once.
func TestConcurrentRetriesRefundOnce(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.paid(t, "checkout-1", 1000)
		var wg sync.WaitGroup
		res := make([]*paymentv1.RefundPaymentResponse, 5)
		errs := make([]error, 5)
		for i := range res {
			wg.Go(func() { res[i], errs[i] = e.refund(p.GetId(), 250, "refund-1") })
		}
		wg.Wait()
		for i := range res {
			if errs[i] != nil {
				t.Errorf("call %d: %v", i, errs[i])
			} else if res[i].GetRefundAmount().GetAmount() != 250 {
				t.Errorf("call %d: refund_amount %d, want 250", i, res[i].GetRefundAmount().GetAmount())
			}
		}
		if n := e.count(t, "SELECT count(*) FROM refunds"); n != 1 {
			t.Errorf("%d refunds stored, want 1", n)
		}
		if held, succeededSum, pending := e.refundTotals(t, p.GetId()); held != 250 || succeededSum != 250 || pending != 0 {
			t.Errorf("refunded %d, succeeded %d, pending %d; want 250, 250, 0", held, succeededSum, pending)
		}
	})
}

// Ten refunds of 150 at once on a payment of 1000: six fit, four must not,
// and refunded never exceeds the payment.
func TestConcurrentRefundsNeverExceedThePayment(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.paid(t, "checkout-1", 1000)
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = e.refund(p.GetId(), 150, fmt.Sprintf("refund-%d", i))
			})
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case code(err) != connect.CodeFailedPrecondition && code(err) != connect.CodeAborted:
				t.Errorf("refund %d: %v", i, err)
			}
		}
		if ok != 6 {
			t.Errorf("%d refunds succeeded, want 6", ok)
		}
		held, succeededSum, pending := e.refundTotals(t, p.GetId())
		if held != 150*ok || succeededSum != held || pending != 0 {
			t.Errorf("refunded %d, succeeded refunds %d, pending %d; want %d, %d, 0", held, succeededSum, pending, 150*ok, 150*ok)
		}
		if got := e.get(t, p.GetId()).GetRefunded().GetAmount(); got != int64(held) {
			t.Errorf("GetPayment refunded %d, want %d", got, held)
		}
		e.outcomes.waitFor(t, p.GetId(), "refunded 900", func(p *paymentv1.Payment) bool { return p.GetRefunded().GetAmount() == 900 })
	})
}

// The provider refunds but its answer is lost (a crash, a timeout): the
// refund stays pending, holding its amount, and the refund job finishes it
// with the same provider key, so the provider refunds once.
func TestRefundJobFinishesAnInterruptedRefund(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.paid(t, "checkout-1", 1000)
		e.spy.lose("Refund", 1)
		if _, err := e.refund(p.GetId(), 300, "refund-1"); code(err) != connect.CodeUnavailable {
			t.Fatalf("refund with the answer lost: %v, want unavailable", err)
		}
		if held, succeededSum, pending := e.refundTotals(t, p.GetId()); held != 300 || succeededSum != 0 || pending != 300 {
			t.Errorf("while pending: refunded %d, succeeded %d, pending %d; want 300, 0, 300", held, succeededSum, pending)
		}
		if got := e.get(t, p.GetId()).GetRefunded().GetAmount(); got != 0 {
			t.Errorf("GetPayment refunded %d while the refund is pending, want 0", got)
		}
		payment.RunScheduledJobsNow(t, e.svc)
		e.outcomes.waitFor(t, p.GetId(), "refunded 300", func(p *paymentv1.Payment) bool { return p.GetRefunded().GetAmount() == 300 })
		if held, succeededSum, pending := e.refundTotals(t, p.GetId()); held != 300 || succeededSum != 300 || pending != 0 {
			t.Errorf("after the job: refunded %d, succeeded %d, pending %d; want 300, 300, 0", held, succeededSum, pending)
		}
		// The caller's retry now gets the refund, without another.
		res, err := e.refund(p.GetId(), 300, "refund-1")
		if err != nil || res.GetRefundAmount().GetAmount() != 300 || res.GetPayment().GetRefunded().GetAmount() != 300 {
			t.Errorf("retry: %v, %v", res, err)
		}
		// Had the provider refunded twice, the rest (700) would exceed what it holds.
		if res, err := e.refund(p.GetId(), 0, "refund-2"); err != nil || res.GetRefundAmount().GetAmount() != 700 {
			t.Errorf("refund of the rest: %v, %v", res, err)
		}
	})
}

// A provider that cannot be reached leaves the refund pending; the caller's
// retry with the same key finishes it.
func TestRefundRetryAfterTheProviderWasDown(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.paid(t, "checkout-1", 1000)
		e.spy.fail("Refund", 1)
		if _, err := e.refund(p.GetId(), 400, "refund-1"); code(err) != connect.CodeUnavailable {
			t.Fatalf("refund with the provider down: %v, want unavailable", err)
		}
		res, err := e.refund(p.GetId(), 400, "refund-1")
		if err != nil || res.GetPayment().GetRefunded().GetAmount() != 400 {
			t.Fatalf("retry: %v, %v", res, err)
		}
		if held, succeededSum, pending := e.refundTotals(t, p.GetId()); held != 400 || succeededSum != 400 || pending != 0 {
			t.Errorf("refunded %d, succeeded %d, pending %d; want 400, 400, 0", held, succeededSum, pending)
		}
	})
}

// A refund the provider refuses for good fails, and its amount is
// refundable again.
func TestRefundRefusedByTheProvider(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.paid(t, "checkout-1", 1000)
		// Someone refunds 600 at the provider directly (its dashboard, say),
		// so it holds only 400 where we think 1000 remain.
		if _, err := e.sim.Refund(context.Background(), provider.Refund{IntentID: p.GetProviderPaymentId(), Amount: 600, IdempotencyKey: "dashboard"}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the same key replays the refusal
			_, err := e.refund(p.GetId(), 0, "refund-1")
			if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "refused") {
				t.Errorf("refund beyond what the provider holds: %v, want failed_precondition", err)
			}
		}
		if held, succeededSum, pending := e.refundTotals(t, p.GetId()); held != 0 || succeededSum != 0 || pending != 0 {
			t.Errorf("refunded %d, succeeded %d, pending %d; want all 0", held, succeededSum, pending)
		}
		if n := e.count(t, "SELECT count(*) FROM refunds WHERE status = 3"); n != 1 {
			t.Errorf("%d failed refunds, want 1", n)
		}
		if res, err := e.refund(p.GetId(), 400, "refund-2"); err != nil || res.GetPayment().GetRefunded().GetAmount() != 400 {
			t.Errorf("refund of what the provider holds: %v, %v", res, err)
		}
	})
}
