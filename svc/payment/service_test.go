package payment_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/gen/emporium/payment/v1/paymentv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

type paymentClient = paymentv1connect.PaymentServiceClient

const (
	requiresPaymentMethod = paymentv1.PaymentStatus_PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD
	requiresAction        = paymentv1.PaymentStatus_PAYMENT_STATUS_REQUIRES_ACTION
	succeeded             = paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED
	canceled              = paymentv1.PaymentStatus_PAYMENT_STATUS_CANCELED
)

func TestCreatePaymentIsIdempotent(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{manualWebhooks: true}, func(t *testing.T, e *env) {
		ctx := context.Background()
		req := &paymentv1.CreatePaymentRequest{OrderId: "order-1", Amount: usd(1999), IdempotencyKey: "checkout-1"}
		// The same key five times at once, then once more: one payment.
		var wg sync.WaitGroup
		got := make([]*paymentv1.Payment, 6)
		errs := make([]error, 6)
		call := func(i int) {
			res, err := e.internal.CreatePayment(ctx, req)
			got[i], errs[i] = res.GetPayment(), err
		}
		for i := range 5 {
			wg.Go(func() { call(i) })
		}
		wg.Wait()
		call(5)
		for i := range got {
			if errs[i] != nil {
				t.Fatalf("call %d: %v", i, errs[i])
			}
			if diff := cmp.Diff(got[0], got[i], protocmp.Transform()); diff != "" {
				t.Errorf("call %d (-call 0 +call %d):\n%s", i, i, diff)
			}
		}
		p := got[0]
		if p.GetId() == "" || p.GetOrderId() != "order-1" || p.GetStatus() != requiresPaymentMethod ||
			p.GetProvider() != "simulator" || !strings.HasPrefix(p.GetProviderPaymentId(), "pi_sim_") || p.GetClientSecret() == "" {
			t.Errorf("created %v", p)
		}
		if diff := cmp.Diff(usd(1999), p.GetAmount(), protocmp.Transform()); diff != "" {
			t.Errorf("amount (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(usd(0), p.GetRefunded(), protocmp.Transform()); diff != "" {
			t.Errorf("refunded (-want +got):\n%s", diff)
		}
		if n := e.count(t, "SELECT count(*) FROM payments"); n != 1 {
			t.Errorf("%d payments, want 1", n)
		}
		// The simulator emits payment_intent.created for every intent it makes.
		if diff := cmp.Diff([]string{"payment_intent.created"}, e.eventTypes()); diff != "" {
			t.Errorf("simulator events (-want +got):\n%s", diff)
		}

		// The same key for another amount or order is a conflict.
		for _, other := range []*paymentv1.CreatePaymentRequest{
			{OrderId: "order-1", Amount: usd(2000), IdempotencyKey: "checkout-1"},
			{OrderId: "order-2", Amount: usd(1999), IdempotencyKey: "checkout-1"},
		} {
			if _, err := e.internal.CreatePayment(ctx, other); code(err) != connect.CodeAlreadyExists {
				t.Errorf("CreatePayment(%v) = %v, want already_exists", other, err)
			}
		}
	})
}

// A crash between the provider's call and our insert (here: the answer is
// lost) is healed by the caller's retry: the provider's key derives from
// the caller's, so the retry gets the same intent, not a second one.
func TestCreatePaymentRetryReusesTheIntent(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{manualWebhooks: true}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.spy.lose("CreateIntent", 1)
		req := &paymentv1.CreatePaymentRequest{OrderId: "order-1", Amount: usd(500), IdempotencyKey: "checkout-1"}
		if _, err := e.internal.CreatePayment(ctx, req); code(err) != connect.CodeUnavailable {
			t.Fatalf("first CreatePayment = %v, want unavailable", err)
		}
		res, err := e.internal.CreatePayment(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if n := e.spy.count("CreateIntent"); n != 2 {
			t.Errorf("%d CreateIntent calls, want 2", n)
		}
		// The simulator emits payment_intent.created for every intent it makes.
		if diff := cmp.Diff([]string{"payment_intent.created"}, e.eventTypes()); diff != "" {
			t.Errorf("simulator events (-want +got):\n%s", diff)
		}
		if n := e.count(t, "SELECT count(*) FROM payments WHERE provider_payment_id = ?", res.GetPayment().GetProviderPaymentId()); n != 1 {
			t.Errorf("%d payments for the intent, want 1", n)
		}
	})
}

func TestCreatePaymentRejectsBadAmounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite", envOptions{})
	tests := []struct {
		name   string
		amount *typev1.Money
	}{
		{"another currency", &typev1.Money{Amount: 1000, Currency: "EUR"}},
		{"nothing to pay", usd(0)},
		{"lower-case currency", &typev1.Money{Amount: 1000, Currency: "usd"}},
		{"no amount", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.internal.CreatePayment(context.Background(), &paymentv1.CreatePaymentRequest{
				OrderId: "o", Amount: tt.amount, IdempotencyKey: tt.name,
			})
			if code(err) != connect.CodeInvalidArgument {
				t.Errorf("err = %v, want invalid_argument", err)
			}
		})
	}
	if n := e.count(t, "SELECT count(*) FROM payments"); n != 0 {
		t.Errorf("%d payments stored, want 0", n)
	}
}

func TestConfirmSucceedsAndTellsOutcomesOnce(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.create(t, "checkout-1", 2500)
		got := e.confirm(t, p.GetId(), provider.TestMethodSucceeds, "confirm-1")
		if got.GetStatus() != succeeded || got.GetLastError() != "" || got.GetNextActionUrl() != "" {
			t.Errorf("confirmed %v", got)
		}
		// Confirming a succeeded payment returns it unchanged, without a
		// second charge.
		again := e.confirm(t, p.GetId(), provider.TestMethodSucceeds, "confirm-2")
		if diff := cmp.Diff(got, again, protocmp.Transform()); diff != "" {
			t.Errorf("second confirm changed the payment (-first +second):\n%s", diff)
		}
		if n := e.spy.count("Confirm"); n != 1 {
			t.Errorf("%d provider confirms, want 1", n)
		}
		evs := e.settledEvents(t, p.GetId())
		if len(evs) != 1 {
			t.Fatalf("events %s, want one", summary(evs))
		}
		// Events carry the payment without its client secret, which no
		// consumer needs.
		if diff := cmp.Diff(got, evs[0].GetPayment(), protocmp.Transform(), protocmp.IgnoreFields(&paymentv1.Payment{}, "client_secret")); diff != "" {
			t.Errorf("event payment (-GetPayment +event):\n%s", diff)
		}
		if got.GetClientSecret() == "" || evs[0].GetPayment().GetClientSecret() != "" {
			t.Errorf("client secret %q on the payment, %q on its event; want it only on the payment", got.GetClientSecret(), evs[0].GetPayment().GetClientSecret())
		}
		if got.GetClientSecret() != "" && strings.Contains(e.logs.String(), got.GetClientSecret()) {
			t.Errorf("the logs hold the client secret")
		}
		if id := evs[0].GetEventId(); !strings.HasPrefix(id, p.GetId()+":") {
			t.Errorf("event id %q, want %q and a version", id, p.GetId()+":")
		}
	})
}

// A confirm's outcome is written on the row read before the provider was
// asked, guarded by its version: when a webhook changed the payment
// meanwhile, the outcome is folded into the payment as it is now, and
// neither change is lost.
func TestConfirmOutcomeAfterAConcurrentChangeKeepsBoth(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.create(t, "checkout-race", 2500)
		intent := func(st provider.Status) provider.Intent {
			return provider.Intent{ID: p.GetProviderPaymentId(), Amount: 2500, Currency: "usd", Status: st}
		}
		got, err := payment.ApplyAfterAConcurrentChange(context.Background(), e.svc, p.GetId(),
			intent(provider.StatusProcessing), intent(provider.StatusSucceeded))
		if err != nil || got.GetStatus() != succeeded {
			t.Fatalf("after the race: %v, %v; want succeeded", got, err)
		}
		evs := e.settledEvents(t, p.GetId())
		var seen []string
		for _, ev := range evs {
			seen = append(seen, ev.GetEventId()+" "+ev.GetPayment().GetStatus().String())
		}
		want := []string{
			p.GetId() + ":2 PAYMENT_STATUS_PROCESSING",
			p.GetId() + ":3 PAYMENT_STATUS_SUCCEEDED",
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

// An order service that is down gets the event later: River retries.
func TestOutcomesErrorIsRetried(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		e.outcomes.mu.Lock()
		e.outcomes.refuse = 1
		e.outcomes.mu.Unlock()
		p := e.paid(t, "checkout-1", 100)
		e.outcomes.waitFor(t, p.GetId(), "succeeded", func(p *paymentv1.Payment) bool { return p.GetStatus() == succeeded })
		e.outcomes.mu.Lock()
		defer e.outcomes.mu.Unlock()
		if e.outcomes.refused != 1 {
			t.Errorf("%d deliveries refused, want 1", e.outcomes.refused)
		}
	})
}

func TestConfirmDeclineThenAnotherCard(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.create(t, "checkout-1", 4200)
		declined := e.confirm(t, p.GetId(), provider.TestMethodDeclines, "confirm-1")
		if declined.GetStatus() != requiresPaymentMethod || declined.GetLastError() != "Your card was declined. Try another card or payment method." {
			t.Errorf("declined payment: status %s, last_error %q", declined.GetStatus(), declined.GetLastError())
		}
		// The same request again replays the decline.
		if again := e.confirm(t, p.GetId(), provider.TestMethodDeclines, "confirm-1"); again.GetLastError() != declined.GetLastError() {
			t.Errorf("replayed decline: last_error %q", again.GetLastError())
		}
		paid := e.confirm(t, p.GetId(), provider.TestMethodSucceeds, "confirm-2")
		if paid.GetStatus() != succeeded || paid.GetLastError() != "" {
			t.Errorf("after a good card: status %s, last_error %q", paid.GetStatus(), paid.GetLastError())
		}
		if evs := e.settledEvents(t, p.GetId()); len(evs) != 1 || evs[0].GetPayment().GetStatus() != succeeded {
			t.Errorf("events %s, want one succeeded (a decline changes no status)", summary(evs))
		}
	})
}

func TestConfirmErrors(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		open := e.create(t, "checkout-1", 100)
		gone := e.create(t, "checkout-2", 100)
		if _, err := e.internal.CancelPayment(ctx, &paymentv1.CancelPaymentRequest{Id: gone.GetId()}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			id     string
			method string
			want   connect.Code
		}{
			{"unknown test card", open.GetId(), "4111111111111111", connect.CodeInvalidArgument},
			{"canceled payment", gone.GetId(), provider.TestMethodSucceeds, connect.CodeFailedPrecondition},
			{"unknown payment", "no-such-payment", provider.TestMethodSucceeds, connect.CodeNotFound},
			{"no payment method", open.GetId(), "", connect.CodeInvalidArgument},
		}
		for _, tt := range tests {
			_, err := e.internal.ConfirmPayment(ctx, &paymentv1.ConfirmPaymentRequest{PaymentId: tt.id, PaymentMethod: tt.method, IdempotencyKey: tt.name})
			if code(err) != tt.want {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
			}
		}
		if got := e.get(t, open.GetId()); got.GetStatus() != requiresPaymentMethod || got.GetLastError() != "" {
			t.Errorf("after an unknown card: status %s, last_error %q", got.GetStatus(), got.GetLastError())
		}
	})
}

func TestCancelPayment(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.create(t, "checkout-1", 100)
		for i := range 2 { // idempotent
			res, err := e.internal.CancelPayment(ctx, &paymentv1.CancelPaymentRequest{Id: p.GetId()})
			if err != nil {
				t.Fatalf("cancel %d: %v", i, err)
			}
			if res.GetPayment().GetStatus() != canceled {
				t.Errorf("cancel %d: status %s", i, res.GetPayment().GetStatus())
			}
		}
		if n := e.spy.count("Cancel"); n != 1 {
			t.Errorf("%d provider cancels, want 1", n)
		}
		if evs := e.settledEvents(t, p.GetId()); len(evs) != 1 || evs[0].GetPayment().GetStatus() != canceled {
			t.Errorf("events %s, want one canceled", summary(evs))
		}

		paid := e.paid(t, "checkout-2", 100)
		_, err := e.internal.CancelPayment(ctx, &paymentv1.CancelPaymentRequest{Id: paid.GetId()})
		if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "refund it instead") {
			t.Errorf("cancel a succeeded payment: %v, want failed_precondition saying to refund", err)
		}
		if got := e.get(t, paid.GetId()); got.GetStatus() != succeeded {
			t.Errorf("status %s after a refused cancel", got.GetStatus())
		}
	})
}

func TestGetPayment(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.paid(t, "checkout-1", 100)
		if diff := cmp.Diff(p, e.get(t, p.GetId()), protocmp.Transform()); diff != "" {
			t.Errorf("GetPayment (-confirmed +got):\n%s", diff)
		}
		_, err := e.internal.GetPayment(context.Background(), &paymentv1.GetPaymentRequest{Id: "no-such-payment"})
		if code(err) != connect.CodeNotFound {
			t.Errorf("unknown id: %v, want not_found", err)
		}
	})
}

// Every method but GetPaymentConfig (public) is for other Emporium services only.
func TestOnlyServicesMayCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite", envOptions{})
	p := e.create(t, "checkout-1", 100)
	ctx := context.Background()
	calls := map[string]func(c paymentClient) error{
		"CreatePayment": func(c paymentClient) error {
			_, err := c.CreatePayment(ctx, &paymentv1.CreatePaymentRequest{OrderId: "o", Amount: usd(1), IdempotencyKey: "k"})
			return err
		},
		"ConfirmPayment": func(c paymentClient) error {
			_, err := c.ConfirmPayment(ctx, &paymentv1.ConfirmPaymentRequest{PaymentId: p.GetId(), PaymentMethod: provider.TestMethodSucceeds, IdempotencyKey: "k"})
			return err
		},
		"GetPayment": func(c paymentClient) error {
			_, err := c.GetPayment(ctx, &paymentv1.GetPaymentRequest{Id: p.GetId()})
			return err
		},
		"CancelPayment": func(c paymentClient) error {
			_, err := c.CancelPayment(ctx, &paymentv1.CancelPaymentRequest{Id: p.GetId()})
			return err
		},
		"RefundPayment": func(c paymentClient) error {
			_, err := c.RefundPayment(ctx, &paymentv1.RefundPaymentRequest{PaymentId: p.GetId(), IdempotencyKey: "k"})
			return err
		},
	}
	for name, call := range calls {
		if err := call(e.customer); code(err) != connect.CodePermissionDenied {
			t.Errorf("%s as a customer: %v, want permission_denied", name, err)
		}
		if err := call(e.anon); code(err) != connect.CodeUnauthenticated {
			t.Errorf("%s anonymously: %v, want unauthenticated", name, err)
		}
	}
	if got := e.get(t, p.GetId()); got.GetStatus() != requiresPaymentMethod {
		t.Errorf("status %s after refused calls", got.GetStatus())
	}
}

// Card numbers never get in: the browser tokenizes them (here at the
// simulator's endpoint, as Stripe.js does at Stripe) and ConfirmPayment
// refuses anything that looks like one. Neither the numbers nor the
// refused requests end up in any column of any table (River's included) or
// any log line.
func TestCardNumberIsNeverStoredOrLogged(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		cards := []string{provider.TestCardSucceeds, provider.TestCardDeclines}
		p := e.create(t, "checkout-1", 1000)
		if got := e.confirm(t, p.GetId(), e.token(t, provider.TestCardSucceeds), "confirm-1"); got.GetStatus() != succeeded {
			t.Fatalf("paid with a tokenized card: %v", got)
		}
		declined := e.create(t, "checkout-2", 1000)
		if got := e.confirm(t, declined.GetId(), e.token(t, provider.TestCardDeclines), "confirm-2"); got.GetLastError() == "" {
			t.Errorf("declined card: %v, want last_error", got)
		}
		for _, card := range append(cards, "4242 4242 4242 4242", "4000-0000-0000-0002", "pm_4242424242424242") {
			_, err := e.internal.ConfirmPayment(ctx, &paymentv1.ConfirmPaymentRequest{PaymentId: declined.GetId(), PaymentMethod: card, IdempotencyKey: "confirm-3"})
			if code(err) != connect.CodeInvalidArgument || !slices.Equal(testkit.ViolationFields(err), []string{"payment_method"}) ||
				!strings.Contains(err.Error(), "send a payment method token, not card details") {
				t.Errorf("ConfirmPayment(%q): %v, want invalid_argument on payment_method", card, err)
			}
		}
		if _, err := e.internal.RefundPayment(ctx, &paymentv1.RefundPaymentRequest{PaymentId: p.GetId(), Amount: 100, IdempotencyKey: "refund-1"}); err != nil {
			t.Fatal(err)
		}
		e.settledEvents(t, p.GetId())

		for _, table := range e.tables(t) {
			rows, err := e.db.QueryContext(ctx, "SELECT * FROM "+table)
			if err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			cols, err := rows.Columns()
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatalf("scan %s: %v", table, err)
				}
				for i, v := range vals {
					s := fmt.Sprint(v)
					if b, ok := v.([]byte); ok {
						s = string(b)
					}
					for _, card := range cards {
						if strings.Contains(s, card) {
							t.Errorf("%s.%s holds a card number: %q", table, cols[i], s)
						}
					}
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
		}
		logs := e.logs.String()
		if !strings.Contains(logs, "an intent's creation changes nothing") {
			t.Errorf("logs lack the line about the created event; is logging wired?\n%s", logs)
		}
		for _, card := range cards {
			for line := range strings.SplitSeq(logs, "\n") {
				if strings.Contains(line, card) || strings.Contains(line, card[:4]+" "+card[4:8]) {
					t.Errorf("log line holds a card number: %s", line)
				}
			}
		}
	})
}

// The simulator's tokenization endpoint answers as Stripe's payment method
// creation does: a payment_method object, or Stripe's error object.
func TestSimulatorTokenizer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite", envOptions{})
	status, pm := e.tokenize(t, url.Values{"type": {"card"}, "card[number]": {"4000 0027 6000 3184"},
		"card[exp_month]": {"12"}, "card[exp_year]": {strconv.Itoa(time.Now().Year() + 2)}, "card[cvc]": {"123"}})
	card, _ := pm["card"].(map[string]any)
	if status != http.StatusOK || pm["object"] != "payment_method" || pm["type"] != "card" ||
		card["last4"] != "3184" || card["brand"] != "visa" || card["exp_month"] != float64(12) {
		t.Errorf("tokenize: %d %v", status, pm)
	}
	if raw := fmt.Sprint(pm); strings.Contains(raw, "400000276000") {
		t.Errorf("the answer repeats the card number: %s", raw)
	}
	// The id pays for a payment as the card would: this one asks for 3-D Secure.
	p := e.confirm(t, e.create(t, "checkout-1", 100).GetId(), pm["id"].(string), "confirm-1")
	if p.GetStatus() != paymentv1.PaymentStatus_PAYMENT_STATUS_REQUIRES_ACTION || p.GetNextActionUrl() == "" {
		t.Errorf("confirmed with the token: %v", p)
	}

	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantType   string
		wantCode   string
		wantParam  string
	}{
		{"not a test card", url.Values{"type": {"card"}, "card[number]": {"4111111111111111"}}, http.StatusPaymentRequired, "card_error", "card_declined", "card[number]"},
		{"not a card number", url.Values{"type": {"card"}, "card[number]": {"1234"}}, http.StatusPaymentRequired, "card_error", "incorrect_number", "card[number]"},
		{"expired", url.Values{"type": {"card"}, "card[number]": {provider.TestCardSucceeds}, "card[exp_month]": {"1"}, "card[exp_year]": {"2001"}},
			http.StatusPaymentRequired, "card_error", "invalid_expiry_year", "card[exp_year]"},
		{"month not a number", url.Values{"type": {"card"}, "card[number]": {provider.TestCardSucceeds}, "card[exp_month]": {"May"}},
			http.StatusBadRequest, "invalid_request_error", "parameter_invalid_integer", "card[exp_month]"},
		{"no number", url.Values{"type": {"card"}}, http.StatusBadRequest, "invalid_request_error", "parameter_missing", "card[number]"},
		{"not a card", url.Values{"type": {"sepa_debit"}}, http.StatusBadRequest, "invalid_request_error", "parameter_invalid_string", "type"},
	}
	for _, tt := range tests {
		status, body := e.tokenize(t, tt.form)
		got, _ := body["error"].(map[string]any)
		if status != tt.wantStatus || got["type"] != tt.wantType || got["code"] != tt.wantCode || got["param"] != tt.wantParam || got["message"] == "" {
			t.Errorf("%s: %d %v; want %d %s %s on %s", tt.name, status, body, tt.wantStatus, tt.wantType, tt.wantCode, tt.wantParam)
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, "4111111111111111") || strings.Contains(logs, provider.TestCardRequires3DS) {
		t.Errorf("logs hold card digits:\n%s", logs)
	}
}

// GetPaymentConfig is public and tells apps which form to show.
func TestGetPaymentConfig(t *testing.T) {
	t.Parallel()
	sim := newEnv(t, "sqlite", envOptions{})
	res, err := sim.anon.GetPaymentConfig(context.Background(), &paymentv1.GetPaymentConfigRequest{})
	if err != nil {
		t.Fatalf("GetPaymentConfig anonymously: %v", err)
	}
	want := &paymentv1.GetPaymentConfigResponse{Provider: "simulator", PaymentMethodTypes: []string{"card"}, Currency: "USD", TokenizePath: payment.SimulatorTokenizePath}
	if diff := cmp.Diff(want, res, protocmp.Transform()); diff != "" {
		t.Errorf("simulator config (-want +got):\n%s", diff)
	}

	stripe := newEnv(t, "sqlite", envOptions{stripeURL: "http://127.0.0.1:1"}) // never called
	res, err = stripe.customer.GetPaymentConfig(context.Background(), &paymentv1.GetPaymentConfigRequest{})
	if err != nil {
		t.Fatalf("GetPaymentConfig as a customer: %v", err)
	}
	want = &paymentv1.GetPaymentConfigResponse{Provider: "stripe", PublishableKey: publishableKey, PaymentMethodTypes: []string{"card"}, Currency: "USD"}
	if diff := cmp.Diff(want, res, protocmp.Transform()); diff != "" {
		t.Errorf("stripe config (-want +got):\n%s", diff)
	}
}

// tables lists every table of the service's database.
func (e *env) tables(t *testing.T) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if db.IsPostgres(e.db) {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	rows, err := e.db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n sql.NullString
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n.String)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"payments", "refunds", "webhook_events", "river_job"} {
		if !slices.Contains(names, want) {
			t.Fatalf("tables %v lack %s", names, want)
		}
	}
	return names
}

// The provider may be ahead of us (its webhook not here yet): confirm and
// cancel then go by its current state.
// A provider that no longer knows a payment's intent (the simulator after
// its process restarted) cannot charge it: canceling the payment succeeds,
// instead of failing not_found on every retry while the order holds stock.
func TestCancelPaymentTheProviderForgot(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := e.create(t, "checkout-1", 100)
		if _, err := e.db.NewRaw("UPDATE payments SET provider_payment_id = ? WHERE id = ?", "pi_sim_forgotten", p.GetId()).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := e.internal.CancelPayment(ctx, &paymentv1.CancelPaymentRequest{Id: p.GetId()})
		if err != nil {
			t.Fatalf("cancel a payment whose intent the provider does not know: %v, want it canceled", err)
		}
		if res.GetPayment().GetStatus() != canceled {
			t.Errorf("status %s, want canceled", res.GetPayment().GetStatus())
		}
		if got := e.get(t, p.GetId()); got.GetStatus() != canceled {
			t.Errorf("stored status %s, want canceled", got.GetStatus())
		}
	})
}

func TestConfirmAndCancelCatchUpWithTheProvider(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{manualWebhooks: true}, func(t *testing.T, e *env) {
		ctx := context.Background()
		paid := e.create(t, "checkout-1", 700)
		if _, err := e.sim.Confirm(ctx, paid.GetProviderPaymentId(), provider.TestMethodSucceeds, "elsewhere-1"); err != nil {
			t.Fatal(err)
		}
		if got := e.confirm(t, paid.GetId(), provider.TestMethodSucceeds, "confirm-1"); got.GetStatus() != succeeded || got.GetLastError() != "" {
			t.Errorf("confirm of an intent that succeeded meanwhile: status %s, last_error %q", got.GetStatus(), got.GetLastError())
		}

		paidToo := e.create(t, "checkout-2", 700)
		if _, err := e.sim.Confirm(ctx, paidToo.GetProviderPaymentId(), provider.TestMethodSucceeds, "elsewhere-2"); err != nil {
			t.Fatal(err)
		}
		_, err := e.internal.CancelPayment(ctx, &paymentv1.CancelPaymentRequest{Id: paidToo.GetId()})
		if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "refund it instead") {
			t.Errorf("cancel of an intent that succeeded meanwhile: %v, want failed_precondition", err)
		}
		if got := e.get(t, paidToo.GetId()); got.GetStatus() != succeeded {
			t.Errorf("after the refused cancel: status %s, want succeeded", got.GetStatus())
		}

		gone := e.create(t, "checkout-3", 700)
		if _, err := e.sim.Cancel(ctx, gone.GetProviderPaymentId(), "elsewhere-3"); err != nil {
			t.Fatal(err)
		}
		_, err = e.internal.ConfirmPayment(ctx, &paymentv1.ConfirmPaymentRequest{PaymentId: gone.GetId(), PaymentMethod: provider.TestMethodSucceeds, IdempotencyKey: "confirm-3"})
		if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "canceled") {
			t.Errorf("confirm of an intent canceled meanwhile: %v, want failed_precondition", err)
		}

		for _, p := range []*paymentv1.Payment{paid, paidToo} {
			if evs := e.settledEvents(t, p.GetId()); len(evs) != 1 || evs[0].GetPayment().GetStatus() != succeeded {
				t.Errorf("payment %s: events %s, want one succeeded", p.GetId(), summary(evs))
			}
		}
		if evs := e.settledEvents(t, gone.GetId()); len(evs) != 1 || evs[0].GetPayment().GetStatus() != canceled {
			t.Errorf("canceled payment: events %s, want one canceled", summary(evs))
		}
	})
}
