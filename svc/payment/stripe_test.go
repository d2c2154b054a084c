package payment_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/svc/payment/provider/stripemocktest"
)

// stripeRecorder records the Stripe API calls the adapter makes.
type stripeRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []stripeRequest
}

type stripeRequest struct {
	method, path, idempotencyKey, form string
}

func (r *stripeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, stripeRequest{req.Method, req.URL.Path, req.Header.Get("Idempotency-Key"), string(body)})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// to returns the requests made to method and path.
func (r *stripeRecorder) to(method, path string) []stripeRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []stripeRequest
	for _, q := range r.reqs {
		if q.method == method && q.path == path {
			out = append(out, q)
		}
	}
	return out
}

// The service on the Stripe adapter, against stripe-mock. stripe-mock is
// stateless: it answers with fixtures (echoing some parameters), never
// moves an intent on, and has no idempotency, so the test checks what
// reaches Stripe and what the service makes of the answers.
func TestStripeThroughTheService(t *testing.T) {
	t.Parallel()
	base := stripemocktest.Start(t)
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engine, envOptions{stripeURL: base})
			ctx := context.Background()

			req := &paymentv1.CreatePaymentRequest{OrderId: "order-1", Amount: usd(1234), IdempotencyKey: "checkout-1"}
			res, err := e.internal.CreatePayment(ctx, req)
			if err != nil {
				t.Fatalf("CreatePayment: %v", err)
			}
			p := res.GetPayment()
			if p.GetProvider() != "stripe" || !strings.HasPrefix(p.GetProviderPaymentId(), "pi_") || p.GetClientSecret() == "" ||
				p.GetStatus() != requiresPaymentMethod || p.GetAmount().GetAmount() != 1234 {
				t.Errorf("created %v", p)
			}
			creates := e.stripe.to(http.MethodPost, "/v1/payment_intents")
			if len(creates) != 1 {
				t.Fatalf("%d creates reached Stripe, want 1", len(creates))
			}
			c := creates[0]
			if !strings.HasPrefix(c.idempotencyKey, "emporium-payment-create-") ||
				!strings.Contains(c.form, "amount=1234") || !strings.Contains(c.form, "currency=usd") || !strings.Contains(c.form, "order-1") {
				t.Errorf("create sent Idempotency-Key %q, form %q", c.idempotencyKey, c.form)
			}
			// A retry is answered from our records.
			if again, err := e.internal.CreatePayment(ctx, req); err != nil || again.GetPayment().GetId() != p.GetId() {
				t.Errorf("retried CreatePayment: %v, %v", again, err)
			}
			if n := len(e.stripe.to(http.MethodPost, "/v1/payment_intents")); n != 1 {
				t.Errorf("%d creates reached Stripe after a retry, want 1", n)
			}

			confirmed := e.confirm(t, p.GetId(), "pm_card_visa", "confirm-1")
			if confirmed.GetStatus() != requiresPaymentMethod || confirmed.GetLastError() != "" {
				t.Errorf("confirmed (stripe-mock's fixture): status %s, last_error %q", confirmed.GetStatus(), confirmed.GetLastError())
			}
			confirms := e.stripe.to(http.MethodPost, "/v1/payment_intents/"+p.GetProviderPaymentId()+"/confirm")
			if len(confirms) != 1 || !strings.Contains(confirms[0].form, "payment_method=pm_card_visa") ||
				!strings.HasPrefix(confirms[0].idempotencyKey, "emporium-payment-confirm-") {
				t.Errorf("confirm requests %+v", confirms)
			}

			// stripe-mock never says succeeded; a real Stripe would, by
			// confirm or webhook. Stand in for that.
			if _, err := e.db.ExecContext(ctx, "UPDATE payments SET status = ? WHERE id = ?", int32(succeeded), p.GetId()); err != nil {
				t.Fatal(err)
			}
			refund, err := e.refund(p.GetId(), 500, "refund-1")
			if err != nil {
				t.Fatalf("RefundPayment: %v", err)
			}
			if refund.GetRefundAmount().GetAmount() != 500 || refund.GetPayment().GetRefunded().GetAmount() != 500 {
				t.Errorf("refund: %v", refund)
			}
			refunds := e.stripe.to(http.MethodPost, "/v1/refunds")
			if len(refunds) != 1 || !strings.Contains(refunds[0].form, "amount=500") ||
				!strings.Contains(refunds[0].form, "payment_intent="+p.GetProviderPaymentId()) ||
				!strings.HasPrefix(refunds[0].idempotencyKey, "emporium-payment-refund-") {
				t.Errorf("refund requests %+v", refunds)
			}
			if n := e.count(t, "SELECT count(*) FROM refunds WHERE status = 2 AND provider_refund_id LIKE 're_%'"); n != 1 {
				t.Errorf("%d succeeded refunds with Stripe's id, want 1", n)
			}
			e.outcomes.waitFor(t, p.GetId(), "refunded 500", func(p *paymentv1.Payment) bool { return p.GetRefunded().GetAmount() == 500 })
		})
	}
}
