package provider

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/google/go-cmp/cmp"
)

const webhookSecret = "whsec_test_secret"

// webhookParsers are both adapters' ParseWebhook; neither needs a server.
func webhookParsers(t *testing.T) map[string]Provider {
	t.Helper()
	sim, err := NewSimulator(SimulatorConfig{WebhookSecret: webhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	st, err := NewStripe(StripeConfig{APIKey: "sk_test_x", WebhookSecret: webhookSecret, BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Provider{"simulator": sim, "stripe": st}
}

const eventPayload = `{"id":"evt_1","object":"event","api_version":"` + simAPIVersion + `","created":1700000000,"type":"payment_intent.succeeded","livemode":false,` +
	`"data":{"object":{"id":"pi_1","object":"payment_intent","amount":1000,"currency":"eur","status":"succeeded"}}}`

const refundPayload = `{"id":"evt_2","object":"event","api_version":"` + simAPIVersion + `","created":1700000001,"type":"refund.created","livemode":false,` +
	`"data":{"object":{"id":"re_1","object":"refund","amount":100,"currency":"eur","payment_intent":"pi_1","status":"succeeded"}}}`

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	// Stripe's library checks the age against the wall clock, so now is real.
	now := time.Now()
	payload := []byte(eventPayload)
	tests := []struct {
		name    string
		payload []byte
		header  string
		want    Event
		wantErr bool
	}{
		{"valid", payload, Sign(payload, webhookSecret, now),
			Event{ID: "evt_1", Type: "payment_intent.succeeded", IntentID: "pi_1", Created: time.Unix(1700000000, 0).UTC()}, false},
		{"refund event names its intent", []byte(refundPayload), Sign([]byte(refundPayload), webhookSecret, now),
			Event{ID: "evt_2", Type: "refund.created", IntentID: "pi_1", Created: time.Unix(1700000001, 0).UTC()}, false},
		{"slightly old is fine", payload, Sign(payload, webhookSecret, now.Add(-290*time.Second)),
			Event{ID: "evt_1", Type: "payment_intent.succeeded", IntentID: "pi_1", Created: time.Unix(1700000000, 0).UTC()}, false},
		{"rolled secret: one of several v1 matches", payload,
			Sign(payload, "whsec_old", now) + ",v1=" + strings.SplitN(Sign(payload, webhookSecret, now), "v1=", 2)[1],
			Event{ID: "evt_1", Type: "payment_intent.succeeded", IntentID: "pi_1", Created: time.Unix(1700000000, 0).UTC()}, false},
		{"tampered payload", []byte(strings.Replace(eventPayload, `"amount":1000`, `"amount":1`, 1)), Sign(payload, webhookSecret, now), Event{}, true},
		{"wrong secret", payload, Sign(payload, "whsec_other", now), Event{}, true},
		{"too old", payload, Sign(payload, webhookSecret, now.Add(-301*time.Second)), Event{}, true},
		{"from the future", payload, Sign(payload, webhookSecret, now.Add(301*time.Second)), Event{}, true},
		{"missing header", payload, "", Event{}, true},
		{"no v1", payload, "t=" + strings.TrimPrefix(strings.SplitN(Sign(payload, webhookSecret, now), ",", 2)[0], "t="), Event{}, true},
		{"garbage header", payload, "nonsense", Event{}, true},
	}
	for name, p := range webhookParsers(t) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := p.ParseWebhook(tt.payload, tt.header, now)
				if tt.wantErr {
					if !errs.Is(err, errs.Unauthenticated) {
						t.Errorf("err = %v, want Unauthenticated", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("event (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestVerifyUsesGivenClock(t *testing.T) {
	t.Parallel()
	payload := []byte(`{}`)
	signed := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h := Sign(payload, "s", signed)
	tests := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"at signing", signed, true},
		{"300 s later", signed.Add(300 * time.Second), true},
		{"301 s later", signed.Add(301 * time.Second), false},
		{"300 s earlier", signed.Add(-300 * time.Second), true},
		{"301 s earlier", signed.Add(-301 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Verify(payload, h, "s", tt.now, DefaultTolerance); (err == nil) != tt.ok {
				t.Errorf("Verify = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// The simulator POSTs signed events and retries failures; a redelivered
// event keeps its ID, so consumers can dedupe.
func TestSimulatorWebhookDelivery(t *testing.T) {
	t.Parallel()
	type delivery struct {
		ev  Event
		err error
	}
	var mu sync.Mutex
	var got []delivery
	var parser *Simulator
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := parser.ParseWebhook(body, r.Header.Get(SignatureHeader), time.Now())
		mu.Lock()
		defer mu.Unlock()
		got = append(got, delivery{ev, err})
		calls++
		if calls == 1 {
			http.Error(w, "try again", http.StatusServiceUnavailable) // first attempt fails
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	sim, err := NewSimulator(SimulatorConfig{WebhookSecret: webhookSecret, WebhookURL: srv.URL, RetryBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	parser = sim
	in, err := sim.CreateIntent(context.Background(), CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	sim.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2 (one failure, one retry)", len(got))
	}
	for i, d := range got {
		if d.err != nil || d.ev.Type != "payment_intent.created" || d.ev.IntentID != in.ID {
			t.Errorf("delivery %d: %+v %v", i, d.ev, d.err)
		}
	}
	if got[0].ev.ID == "" || got[0].ev.ID != got[1].ev.ID {
		t.Errorf("redelivery changed the event ID: %q then %q", got[0].ev.ID, got[1].ev.ID)
	}
}

// Stripe's errors map to kinds without leaking their details. The server
// stands in for Stripe's error responses, which stripe-mock cannot produce.
func TestStripeErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		body     string
		wantKind errs.Kind
		wantMsg  string
	}{
		{"card declined", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined."}}`,
			errs.FailedPrecondition, "Your card was declined."},
		{"idempotency", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}}`,
			errs.Conflict, "idempotency key was used with different parameters"},
		{"missing", 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent: 'pi_x'"}}`,
			errs.NotFound, "payment not found at provider"},
		{"unexpected state", 400, `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"secret state detail"}}`,
			errs.FailedPrecondition, "payment is not in a state that allows this"},
		{"rate limited", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}`,
			errs.Unavailable, "payment provider unavailable"},
		{"stripe down", 500, `{"error":{"type":"api_error","message":"internal detail"}}`,
			errs.Unavailable, "payment provider unavailable"},
		{"bad key", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_***"}}`,
			errs.Internal, "payment provider: confirm payment intent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			st, err := NewStripe(StripeConfig{APIKey: "sk_test_x", WebhookSecret: "whsec_x", BaseURL: srv.URL, MaxNetworkRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = st.Confirm(context.Background(), "pi_x", "pm_card_visa", "k")
			var e *errs.Error
			if !errs.Is(err, tt.wantKind) || !asErr(err, &e) || e.Message != tt.wantMsg {
				t.Errorf("err = %v, want kind %v message %q", err, tt.wantKind, tt.wantMsg)
			}
		})
	}
}

func asErr(err error, target **errs.Error) bool {
	e, ok := err.(*errs.Error)
	*target = e
	return ok
}
