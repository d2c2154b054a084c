package payment_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

// paidAtProvider is a payment whose intent succeeded at the simulator
// without our service hearing of it yet: its events wait in e.captured.
func (e *env) paidAtProvider(t *testing.T, key string) *paymentv1.Payment {
	t.Helper()
	p := e.create(t, key, 1500)
	if _, err := e.sim.Confirm(context.Background(), p.GetProviderPaymentId(), provider.TestMethodSucceeds, key+"-at-provider"); err != nil {
		t.Fatal(err)
	}
	return p
}

// unchanged checks that webhooks left payment p and webhook_events alone.
func (e *env) unchanged(t *testing.T, p *paymentv1.Payment) {
	t.Helper()
	if got := e.get(t, p.GetId()); got.GetStatus() != p.GetStatus() || !got.GetUpdateTime().AsTime().Equal(p.GetUpdateTime().AsTime()) {
		t.Errorf("payment changed: status %s → %s", p.GetStatus(), got.GetStatus())
	}
	if n := e.count(t, "SELECT count(*) FROM webhook_events"); n != 0 {
		t.Errorf("%d webhook events recorded, want 0", n)
	}
	if evs := e.settledEvents(t, p.GetId()); len(evs) != 0 {
		t.Errorf("events %s, want none", summary(evs))
	}
}

func TestWebhookRejectsWhatTheProviderDidNotSign(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{manualWebhooks: true}, func(t *testing.T, e *env) {
		p := e.paidAtProvider(t, "checkout-1")
		payload := e.event(t, "payment_intent.succeeded", p.GetProviderPaymentId())
		tampered := bytes.Replace(payload, []byte(`"amount":1500`), []byte(`"amount":1`), 1)
		if bytes.Equal(tampered, payload) {
			t.Fatalf("payload %s has no amount to tamper with", payload)
		}
		tests := []struct {
			name      string
			payload   []byte
			signature string
			wantCode  int
			wantBody  string
		}{
			{"tampered payload", tampered, e.signed(payload), http.StatusBadRequest, "signature mismatch"},
			{"another secret", payload, provider.Sign(payload, "whsec_someone_else", e.clock.Now()), http.StatusBadRequest, "signature mismatch"},
			{"signed 301 s ago", payload, provider.Sign(payload, webhookSecret, e.clock.Now().Add(-301*time.Second)), http.StatusBadRequest, "outside tolerance"},
			{"no signature", payload, "", http.StatusBadRequest, "signature missing"},
			{"over 64 KiB", append(payload, bytes.Repeat([]byte(" "), 64<<10)...), e.signed(payload), http.StatusRequestEntityTooLarge, "too large"},
		}
		for _, tt := range tests {
			status, body := e.postWebhook(t, tt.payload, tt.signature)
			if status != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("%s: %d %q, want %d with %q", tt.name, status, body, tt.wantCode, tt.wantBody)
			}
		}
		e.unchanged(t, p)
		// Signed 299 s ago is still fine.
		if status, body := e.postWebhook(t, payload, provider.Sign(payload, webhookSecret, e.clock.Now().Add(-299*time.Second))); status != http.StatusOK {
			t.Errorf("signed 299 s ago: %d %q, want 200", status, body)
		}
		if got := e.get(t, p.GetId()); got.GetStatus() != succeeded {
			t.Errorf("status %s after a valid webhook, want succeeded", got.GetStatus())
		}
	})
}

func TestWebhookDeliveredManyTimesTakesEffectOnce(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{manualWebhooks: true}, func(t *testing.T, e *env) {
		p := e.paidAtProvider(t, "checkout-1")
		payload := e.event(t, "payment_intent.succeeded", p.GetProviderPaymentId())
		var wg sync.WaitGroup
		statuses := make([]int, 4)
		for i := range statuses {
			wg.Go(func() { statuses[i], _ = e.postWebhook(t, payload, e.signed(payload)) })
		}
		wg.Wait()
		last, _ := e.postWebhook(t, payload, e.signed(payload))
		statuses = append(statuses, last)
		for i, s := range statuses {
			if s != http.StatusOK {
				t.Errorf("delivery %d: %d, want 200", i, s)
			}
		}
		if evs := e.settledEvents(t, p.GetId()); len(evs) != 1 || evs[0].GetPayment().GetStatus() != succeeded {
			t.Errorf("events %s, want one succeeded", summary(evs))
		}
		if n := e.count(t, "SELECT count(*) FROM webhook_events"); n != 1 {
			t.Errorf("%d webhook events recorded, want 1", n)
		}
	})
}

// Events arrive out of order; the provider's current state, fetched for
// each, is what counts, and succeeded never goes back.
func TestWebhooksOutOfOrderNeverRegress(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{manualWebhooks: true}, func(t *testing.T, e *env) {
		p := e.paidAtProvider(t, "checkout-1")
		intent := p.GetProviderPaymentId()
		for _, typ := range []string{"payment_intent.succeeded", "payment_intent.created"} {
			gets := e.spy.count("Get")
			payload := e.event(t, typ, intent)
			if status, body := e.postWebhook(t, payload, e.signed(payload)); status != http.StatusOK {
				t.Fatalf("%s: %d %q", typ, status, body)
			}
			if got := e.get(t, p.GetId()); got.GetStatus() != succeeded {
				t.Errorf("after %s: status %s, want succeeded", typ, got.GetStatus())
			}
			// An intent's creation can change nothing: it is not looked up.
			if n := e.spy.count("Get") - gets; typ == "payment_intent.created" && n != 0 {
				t.Errorf("%s asked the provider %d times, want none", typ, n)
			}
		}
		// A late failure finds the payment final and is answered without
		// asking the provider, so not even a stale read there could undo it.
		e.spy.staleGet(provider.Intent{ID: intent, Amount: 1500, Currency: "usd", Status: provider.StatusRequiresPaymentMethod})
		gets := e.spy.count("Get")
		late := lateEvent(intent, "evt_late_failure", "payment_intent.payment_failed", e.clock.Now())
		if status, body := e.postWebhook(t, late, e.signed(late)); status != http.StatusOK {
			t.Fatalf("late event: %d %q", status, body)
		}
		if n := e.spy.count("Get") - gets; n != 0 {
			t.Errorf("an event about a final payment asked the provider %d times, want none", n)
		}
		if got := e.get(t, p.GetId()); got.GetStatus() != succeeded {
			t.Errorf("after a stale requires_payment_method: status %s, want succeeded", got.GetStatus())
		}
		if evs := e.settledEvents(t, p.GetId()); len(evs) != 1 || evs[0].GetPayment().GetStatus() != succeeded {
			t.Errorf("events %s, want one succeeded", summary(evs))
		}
	})
}

// lateEvent is a provider event of typ about intent, shaped as the
// simulator shapes them.
func lateEvent(intent, id, typ string, at time.Time) []byte {
	return []byte(`{"id":"` + id + `","object":"event","created":` + strconv.FormatInt(at.Unix(), 10) +
		`,"type":"` + typ + `","livemode":false,"data":{"object":{"id":"` + intent +
		`","object":"payment_intent","amount":1500,"currency":"usd","status":"requires_payment_method"}}}`)
}

func TestWebhookRetriedWhenTheProviderCannotBeAsked(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{manualWebhooks: true}, func(t *testing.T, e *env) {
		p := e.paidAtProvider(t, "checkout-1")
		payload := e.event(t, "payment_intent.succeeded", p.GetProviderPaymentId())
		e.spy.fail("Get", 1)
		if status, _ := e.postWebhook(t, payload, e.signed(payload)); status != http.StatusServiceUnavailable {
			t.Errorf("with the provider down: %d, want 503", status)
		}
		e.unchanged(t, p)
		if status, body := e.postWebhook(t, payload, e.signed(payload)); status != http.StatusOK {
			t.Fatalf("resent: %d %q", status, body)
		}
		if got := e.get(t, p.GetId()); got.GetStatus() != succeeded {
			t.Errorf("status %s after the resent event, want succeeded", got.GetStatus())
		}
	})
}

func TestWebhookIgnoresWhatIsNotOurs(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{manualWebhooks: true}, func(t *testing.T, e *env) {
		other := lateEvent("pi_not_ours", "evt_other", "payment_intent.succeeded", e.clock.Now())
		refund := []byte(`{"id":"evt_refund","object":"event","created":1,"type":"refund.created","data":{"object":{"id":"re_1","object":"refund","payment_intent":"pi_not_ours"}}}`)
		for name, payload := range map[string][]byte{"unknown intent": other, "refund event": refund} {
			if status, body := e.postWebhook(t, payload, e.signed(payload)); status != http.StatusOK {
				t.Errorf("%s: %d %q, want 200", name, status, body)
			}
		}
		if n := e.count(t, "SELECT count(*) FROM webhook_events"); n != 0 {
			t.Errorf("%d webhook events recorded, want 0", n)
		}
		if n := e.spy.count("Get"); n != 0 {
			t.Errorf("%d provider reads for events not ours, want 0", n)
		}
	})
}

// 3-D Secure, end to end as in dev: the shopper approves on the simulator's
// page over HTTP, the simulator's OnEvent hands the webhook to
// ReceiveWebhook synchronously (inside CompleteAction), and the outcome
// reaches Outcomes.
func TestThreeDSecure(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.create(t, "checkout-1", 3100)
		p = e.confirm(t, p.GetId(), provider.TestMethodRequires3DS, "confirm-1")
		page := p.GetNextActionUrl()
		if p.GetStatus() != requiresAction || !strings.HasPrefix(page, e.url+payment.SimulatorActionPath+"?payment_intent=") {
			t.Fatalf("3-D Secure card: status %s, next_action_url %q", p.GetStatus(), page)
		}
		status, body := httpGet(t, page)
		if status != http.StatusOK || !strings.Contains(body, "Confirm this test payment") ||
			!strings.Contains(body, "$31.00") || !strings.Contains(body, `value="approve"`) {
			t.Errorf("GET action page: %d\n%s", status, body)
		}
		status, body = httpForm(t, page, url.Values{"result": {"approve"}})
		if status != http.StatusOK || !strings.Contains(body, "Payment approved") || !strings.Contains(body, `href="/"`) {
			t.Errorf("approve: %d\n%s", status, body)
		}
		e.outcomes.waitFor(t, p.GetId(), "succeeded", func(p *paymentv1.Payment) bool { return p.GetStatus() == succeeded })
		if got := e.get(t, p.GetId()); got.GetStatus() != succeeded || got.GetNextActionUrl() != "" {
			t.Errorf("after approval: status %s, next_action_url %q", got.GetStatus(), got.GetNextActionUrl())
		}
		// The challenge is over: the page says so.
		if status, body := httpGet(t, page); status != http.StatusOK || !strings.Contains(body, "its status is succeeded") {
			t.Errorf("GET after approval: %d\n%s", status, body)
		}
		if status, body := httpForm(t, page, url.Values{"result": {"approve"}}); status != http.StatusConflict || !strings.Contains(body, "no longer waiting") {
			t.Errorf("second approval: %d\n%s", status, body)
		}
		if evs := e.settledEvents(t, p.GetId()); summary(evs) != "[PAYMENT_STATUS_REQUIRES_ACTION/0 PAYMENT_STATUS_SUCCEEDED/0]" {
			t.Errorf("events %s, want requires_action then succeeded", summary(evs))
		}
	})
}

func TestThreeDSecureFailed(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		p := e.confirm(t, e.create(t, "checkout-1", 100).GetId(), provider.TestMethodRequires3DS, "confirm-1")
		status, body := httpForm(t, p.GetNextActionUrl(), url.Values{"result": {"fail"}})
		if status != http.StatusOK || !strings.Contains(body, "Payment failed") {
			t.Errorf("fail: %d\n%s", status, body)
		}
		got := e.get(t, p.GetId())
		if got.GetStatus() != requiresPaymentMethod || !strings.Contains(got.GetLastError(), "could not be authenticated") {
			t.Errorf("after a failed challenge: status %s, last_error %q", got.GetStatus(), got.GetLastError())
		}
		// The shopper tries another card.
		if paid := e.confirm(t, p.GetId(), provider.TestMethodSucceeds, "confirm-2"); paid.GetStatus() != succeeded || paid.GetLastError() != "" {
			t.Errorf("another card: status %s, last_error %q", paid.GetStatus(), paid.GetLastError())
		}
	})
}

func TestSimulatorActionPageRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite", envOptions{})
	p := e.confirm(t, e.create(t, "checkout-1", 100).GetId(), provider.TestMethodRequires3DS, "confirm-1")
	page := p.GetNextActionUrl()
	base := e.url + payment.SimulatorActionPath

	if status, body := httpGet(t, base+"?payment_intent=pi_sim_unknown"); status != http.StatusNotFound || !strings.Contains(body, "unknown payment") {
		t.Errorf("GET unknown intent: %d %q", status, body)
	}
	if status, _ := httpForm(t, base+"?payment_intent=pi_sim_unknown", url.Values{"result": {"approve"}}); status != http.StatusNotFound {
		t.Errorf("POST unknown intent: %d, want 404", status)
	}
	if status, _ := httpForm(t, page, url.Values{"result": {"maybe"}}); status != http.StatusBadRequest {
		t.Errorf("POST result=maybe: %d, want 400", status)
	}
	// A browser posting from another site is refused.
	req, err := http.NewRequest(http.MethodPost, page, strings.NewReader("result=approve"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", res.StatusCode)
	}
	if got := e.get(t, p.GetId()); got.GetStatus() != requiresAction {
		t.Errorf("status %s after refused posts, want requires_action", got.GetStatus())
	}
}

// An app's auth session adds return_url to the page: the link back takes the
// shopper there with the outcome, as Stripe does; other websites and
// schemes that run code fall back to the shop.
func TestSimulatorActionPageReturnsToTheApp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite", envOptions{})
	for _, tc := range []struct {
		name, returnURL, result, wantHref string
	}{
		{"the app's own link", "emporium://orders/o-1", "approve", `href="emporium://orders/o-1?payment_intent=PI&amp;redirect_status=succeeded"`},
		{"a page of the shop", e.url + "/orders/o-1?placed=1", "fail", `href="` + e.url + `/orders/o-1?payment_intent=PI&amp;placed=1&amp;redirect_status=failed"`},
		{"another website", "https://evil.example/phish", "approve", `href="/"`},
		{"a script", "javascript:alert(1)", "approve", `href="/"`},
		{"no scheme", "//evil.example/x", "approve", `href="/"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.confirm(t, e.create(t, "checkout-"+tc.name, 100).GetId(), provider.TestMethodRequires3DS, "confirm-1")
			page := p.GetNextActionUrl() + "&return_url=" + url.QueryEscape(tc.returnURL)
			if status, body := httpGet(t, page); status != http.StatusOK || !strings.Contains(body, `value="approve"`) {
				t.Fatalf("GET: %d\n%s", status, body)
			}
			status, body := httpForm(t, page, url.Values{"result": {tc.result}})
			intent := strings.TrimPrefix(p.GetNextActionUrl(), e.url+payment.SimulatorActionPath+"?payment_intent=")
			want := strings.ReplaceAll(tc.wantHref, "PI", url.QueryEscape(intent))
			if status != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("POST %s: %d, want %s in\n%s", tc.result, status, want, body)
			}
		})
	}
}
