package provider

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/payment/provider/stripemocktest"
	"github.com/emporiumhq/emporium/svc/payment/provider/stripetest"
)

// contractTarget is one adapter under the contract suite.
type contractTarget struct {
	name      string
	p         Provider
	payMethod string    // a payment method that succeeds
	rec       *recorder // the API requests made, when the adapter makes any
	stateful  bool      // false for stripe-mock, which answers with canned fixtures
}

func contractTargets(t *testing.T) []contractTarget {
	t.Helper()
	sim, err := NewSimulator(SimulatorConfig{WebhookSecret: "whsec_contract"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })

	base := stripemocktest.Start(t)
	rec := &recorder{next: http.DefaultTransport}
	st, err := NewStripe(StripeConfig{APIKey: "sk_test_123", WebhookSecret: "whsec_contract", BaseURL: base,
		HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	// The stateful Stripe fake the chaos suite charges through must pass
	// the same contract as the simulator.
	fake := stripetest.Start(t)
	frec := &recorder{next: http.DefaultTransport}
	sf, err := NewStripe(StripeConfig{APIKey: fake.APIKey, WebhookSecret: "whsec_contract", BaseURL: fake.URL,
		HTTPClient: &http.Client{Transport: frec}})
	if err != nil {
		t.Fatal(err)
	}
	return []contractTarget{
		{name: "simulator", p: sim, payMethod: TestMethodSucceeds, stateful: true},
		{name: "stripe", p: st, payMethod: "pm_card_visa", rec: rec},
		{name: "stripe-fake", p: sf, payMethod: "pm_card_visa", rec: frec, stateful: true},
	}
}

var knownStatuses = map[Status]bool{
	StatusRequiresPaymentMethod: true, StatusRequiresConfirmation: true, StatusRequiresAction: true,
	StatusProcessing: true, StatusSucceeded: true, StatusCanceled: true,
}

// keySent checks that the call made with key was a POST to path carrying key
// as its Idempotency-Key, and returns its form body.
func (c contractTarget) keySent(t *testing.T, key, path string) string {
	t.Helper()
	if c.rec == nil {
		return ""
	}
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	for _, r := range c.rec.reqs {
		if r.IdempotencyKey == key {
			if r.Method != http.MethodPost || r.Path != path {
				t.Errorf("key %q sent with %s %s, want POST %s", key, r.Method, r.Path, path)
			}
			return r.Form
		}
	}
	t.Errorf("no request to %s carried Idempotency-Key %q", path, key)
	return ""
}

func (c contractTarget) create(t *testing.T, key string) Intent {
	t.Helper()
	in, err := c.p.CreateIntent(context.Background(), CreateIntent{Amount: 1234, Currency: "EUR", OrderID: "order-1", IdempotencyKey: key})
	if err != nil {
		t.Fatalf("CreateIntent: %v", err)
	}
	return in
}

func TestContract(t *testing.T) {
	t.Parallel()
	for _, c := range contractTargets(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tests := []struct {
				name string
				run  func(t *testing.T, key string)
			}{
				{"create", func(t *testing.T, key string) {
					in := c.create(t, key)
					if in.ID == "" || in.ClientSecret == "" || in.Amount != 1234 || in.Currency != "eur" || in.Status != StatusRequiresPaymentMethod {
						t.Errorf("created %+v", in)
					}
					form := c.keySent(t, key, "/v1/payment_intents")
					if c.rec != nil && (!strings.Contains(form, "amount=1234") || !strings.Contains(form, "currency=eur") || !strings.Contains(form, "order_id")) {
						t.Errorf("create form %q lacks amount, currency or order id", form)
					}
				}},
				{"confirm happy path", func(t *testing.T, key string) {
					in := c.create(t, key+"-create")
					got, err := c.p.Confirm(context.Background(), in.ID, c.payMethod, key)
					if err != nil {
						t.Fatalf("Confirm: %v", err)
					}
					if got.ID != in.ID || !knownStatuses[got.Status] {
						t.Errorf("confirmed %+v", got)
					}
					if c.stateful && got.Status != StatusSucceeded {
						t.Errorf("status %q, want succeeded", got.Status)
					}
					form := c.keySent(t, key, "/v1/payment_intents/"+in.ID+"/confirm")
					if c.rec != nil && !strings.Contains(form, "payment_method="+c.payMethod) {
						t.Errorf("confirm form %q lacks the payment method", form)
					}
				}},
				{"get", func(t *testing.T, key string) {
					in := c.create(t, key)
					got, err := c.p.Get(context.Background(), in.ID)
					if err != nil {
						t.Fatalf("Get: %v", err)
					}
					if got.ID != in.ID || !knownStatuses[got.Status] || got.Currency == "" || got.Amount <= 0 {
						t.Errorf("got %+v", got)
					}
					if c.stateful && got != in {
						t.Errorf("got %+v, want %+v", got, in)
					}
				}},
				{"cancel", func(t *testing.T, key string) {
					in := c.create(t, key+"-create")
					got, err := c.p.Cancel(context.Background(), in.ID, key)
					if err != nil {
						t.Fatalf("Cancel: %v", err)
					}
					if got.ID != in.ID || !knownStatuses[got.Status] {
						t.Errorf("canceled %+v", got)
					}
					if c.stateful && got.Status != StatusCanceled {
						t.Errorf("status %q, want canceled", got.Status)
					}
					c.keySent(t, key, "/v1/payment_intents/"+in.ID+"/cancel")
				}},
				{"partial refund", func(t *testing.T, key string) {
					in := c.create(t, key+"-create")
					if _, err := c.p.Confirm(context.Background(), in.ID, c.payMethod, key+"-confirm"); err != nil {
						t.Fatal(err)
					}
					r, err := c.p.Refund(context.Background(), Refund{IntentID: in.ID, Amount: 500, IdempotencyKey: key})
					if err != nil {
						t.Fatalf("Refund: %v", err)
					}
					if r.ID == "" || r.IntentID != in.ID || r.Amount != 500 || r.Currency == "" || r.Status != "succeeded" {
						t.Errorf("refund %+v", r)
					}
					form := c.keySent(t, key, "/v1/refunds")
					if c.rec != nil && (!strings.Contains(form, "amount=500") || !strings.Contains(form, "payment_intent="+in.ID)) {
						t.Errorf("refund form %q", form)
					}
				}},
				{"full refund", func(t *testing.T, key string) {
					in := c.create(t, key+"-create")
					if _, err := c.p.Confirm(context.Background(), in.ID, c.payMethod, key+"-confirm"); err != nil {
						t.Fatal(err)
					}
					r, err := c.p.Refund(context.Background(), Refund{IntentID: in.ID, IdempotencyKey: key})
					if err != nil {
						t.Fatalf("Refund: %v", err)
					}
					if r.ID == "" || r.IntentID != in.ID || r.Amount <= 0 {
						t.Errorf("refund %+v", r)
					}
					if c.stateful && r.Amount != 1234 {
						t.Errorf("full refund of %d, want 1234", r.Amount)
					}
					if form := c.keySent(t, key, "/v1/refunds"); strings.Contains(form, "amount=") {
						t.Errorf("full refund sent an amount: %q", form)
					}
				}},
				{"bad input is rejected before any call", func(t *testing.T, key string) {
					bad := []error{}
					_, err := c.p.CreateIntent(context.Background(), CreateIntent{Amount: 0, Currency: "eur", IdempotencyKey: key})
					bad = append(bad, err)
					_, err = c.p.CreateIntent(context.Background(), CreateIntent{Amount: 100, Currency: "euro", IdempotencyKey: key})
					bad = append(bad, err)
					_, err = c.p.CreateIntent(context.Background(), CreateIntent{Amount: 100, Currency: "eur"})
					bad = append(bad, err)
					_, err = c.p.Cancel(context.Background(), "pi_x", "")
					bad = append(bad, err)
					_, err = c.p.Refund(context.Background(), Refund{IntentID: "pi_x", Amount: -1, IdempotencyKey: key})
					bad = append(bad, err)
					for i, err := range bad {
						if !errs.Is(err, errs.Invalid) {
							t.Errorf("case %d: err = %v, want Invalid", i, err)
						}
					}
					if c.rec != nil {
						c.rec.mu.Lock()
						defer c.rec.mu.Unlock()
						for _, r := range c.rec.reqs {
							if r.IdempotencyKey == key {
								t.Errorf("invalid input reached the API: %s %s", r.Method, r.Path)
							}
						}
					}
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					tt.run(t, "key-"+c.name+"-"+strings.ReplaceAll(tt.name, " ", "-"))
				})
			}
		})
	}
}
