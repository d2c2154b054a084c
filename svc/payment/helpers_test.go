package payment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/protobuf/proto"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/gen/emporium/payment/v1/paymentv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

const (
	serviceToken  = "order-service-token"
	customerToken = "customer-token"
	webhookSecret = "whsec_payment_test"
	// publishableKey is the Stripe publishable key apps are told about.
	publishableKey = "pk_test_payment"
	// jobPoll is how often River looks for jobs in tests.
	jobPoll = 50 * time.Millisecond
	// waitTimeout bounds every wait for something asynchronous.
	waitTimeout = 15 * time.Second
)

// env is one payment service on a real loopback HTTP server, with the real
// authz and validation interceptors, over a real database, talking to the
// real simulator (seen through spy) or to stripe-mock.
type env struct {
	svc      *payment.Service
	db       *bun.DB
	url      string
	clock    *clocktest.Clock
	logs     *syncBuffer
	outcomes *outcomeRecorder
	sim      *provider.Simulator // nil on Stripe
	spy      *spyProvider        // the simulator as the service sees it; nil on Stripe
	stripe   *stripeRecorder     // the Stripe API calls; nil on the simulator

	// internal is another Emporium service; customer and anon must not get in.
	internal paymentv1connect.PaymentServiceClient
	customer paymentv1connect.PaymentServiceClient
	anon     paymentv1connect.PaymentServiceClient

	mu       sync.Mutex
	captured []simEvent // the simulator's events, with manualWebhooks
	hookErrs []error    // ReceiveWebhook failures from the simulator's OnEvent
}

type envOptions struct {
	// manualWebhooks keeps the simulator's events (see env.event) for the
	// test to deliver over HTTP, instead of handing each to ReceiveWebhook
	// as it happens, as dev does.
	manualWebhooks bool
	// stripeURL, when set, makes the provider the Stripe adapter on
	// stripe-mock at that URL.
	stripeURL string
}

// simEvent is one event the simulator emitted.
type simEvent struct {
	typ, intentID string
	payload       []byte
}

func newEnv(t *testing.T, engine string, opts envOptions) *env {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, engine, "payment", payment.Migrations)
	if _, err := payment.Migrate(ctx, d); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	e := &env{db: d, clock: clocktest.New(time.Now()), logs: &syncBuffer{}, outcomes: newOutcomeRecorder()}
	log, err := logx.New(e.logs, "debug")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.url = servetest.Start(t, mux)

	var p provider.Provider
	name := "simulator"
	var svc atomic.Pointer[payment.Service]
	if opts.stripeURL != "" {
		name = "stripe"
		e.stripe = &stripeRecorder{next: http.DefaultTransport}
		p, err = provider.NewStripe(provider.StripeConfig{
			APIKey: "sk_test_123", WebhookSecret: webhookSecret, BaseURL: opts.stripeURL,
			HTTPClient: &http.Client{Transport: e.stripe},
		})
	} else {
		e.sim, err = provider.NewSimulator(provider.SimulatorConfig{
			WebhookSecret: webhookSecret,
			ActionURL:     e.url + payment.SimulatorActionPath,
			Now:           e.clock.Now,
			OnEvent: func(payload []byte, signature string) {
				if opts.manualWebhooks {
					e.capture(t, payload)
					return
				}
				if err := svc.Load().ReceiveWebhook(context.Background(), payload, signature); err != nil {
					e.mu.Lock()
					e.hookErrs = append(e.hookErrs, err)
					e.mu.Unlock()
				}
			},
		})
		e.spy = &spyProvider{Provider: e.sim}
		p = e.spy
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := payment.New(payment.Deps{
		DB: d, Provider: p, ProviderName: name, PublishableKey: publishableKey, Outcomes: e.outcomes, Currency: "USD",
		Log: log, Now: e.clock.Now, JobPoll: jobPoll,
	})
	if err != nil {
		t.Fatal(err)
	}
	svc.Store(s)
	e.svc = s
	if err := s.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(stopCtx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, err := range e.hookErrs {
			t.Errorf("ReceiveWebhook from the simulator: %v", err)
		}
	})

	auth := authz.NewStaticTokens(map[string]*authz.Principal{
		serviceToken:  {Subject: "order", Roles: []string{authz.RoleService}},
		customerToken: {Subject: "cust-1", Roles: []string{authz.RoleCustomer}},
	})
	handlerOpts, err := serve.HandlerOptions(log, auth)
	if err != nil {
		t.Fatal(err)
	}
	s.Mount(mux, handlerOpts...)
	if e.sim != nil {
		mux.Handle(payment.SimulatorActionPath, payment.SimulatorActionPage(e.sim))
		mux.Handle(payment.SimulatorTokenizePath, payment.SimulatorTokenizer(e.sim))
	}
	e.internal = paymentv1connect.NewPaymentServiceClient(http.DefaultClient, e.url, servetest.Bearer(serviceToken))
	e.customer = paymentv1connect.NewPaymentServiceClient(http.DefaultClient, e.url, servetest.Bearer(customerToken))
	e.anon = paymentv1connect.NewPaymentServiceClient(http.DefaultClient, e.url)
	return e
}

// forEachEngine runs f on a fresh env of every engine, in parallel.
func forEachEngine(t *testing.T, opts envOptions, f func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) { f(t, newEnv(t, engine, opts)) })
}

func usd(amount int64) *typev1.Money { return &typev1.Money{Amount: amount, Currency: "USD"} }

// create opens a payment of amount for an order named after key.
func (e *env) create(t *testing.T, key string, amount int64) *paymentv1.Payment {
	t.Helper()
	res, err := e.internal.CreatePayment(context.Background(), &paymentv1.CreatePaymentRequest{
		OrderId: "order-" + key, Amount: usd(amount), IdempotencyKey: key,
	})
	if err != nil {
		t.Fatalf("CreatePayment(%s): %v", key, err)
	}
	return res.GetPayment()
}

func (e *env) confirm(t *testing.T, id, method, key string) *paymentv1.Payment {
	t.Helper()
	res, err := e.internal.ConfirmPayment(context.Background(), &paymentv1.ConfirmPaymentRequest{
		PaymentId: id, PaymentMethod: method, IdempotencyKey: key,
	})
	if err != nil {
		t.Fatalf("ConfirmPayment(%s): %v", id, err)
	}
	return res.GetPayment()
}

// tokenize posts a card to the simulator's tokenization endpoint as a
// browser does, and returns the status and the decoded JSON answer.
func (e *env) tokenize(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := http.PostForm(e.url+payment.SimulatorTokenizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("tokenize: status %d, body not JSON: %v", res.StatusCode, err)
	}
	return res.StatusCode, body
}

// token is the payment method id the simulator's endpoint makes of card.
func (e *env) token(t *testing.T, card string) string {
	t.Helper()
	status, body := e.tokenize(t, url.Values{"type": {"card"}, "card[number]": {card}})
	id, _ := body["id"].(string)
	if status != http.StatusOK || !strings.HasPrefix(id, "pm_sim_") {
		t.Fatalf("tokenize: %d %v", status, body)
	}
	return id
}

// paid is a payment of amount that succeeded.
func (e *env) paid(t *testing.T, key string, amount int64) *paymentv1.Payment {
	t.Helper()
	p := e.confirm(t, e.create(t, key, amount).GetId(), provider.TestMethodSucceeds, key+"-confirm")
	if p.GetStatus() != paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED {
		t.Fatalf("payment %s: status %s, want succeeded", p.GetId(), p.GetStatus())
	}
	return p
}

func (e *env) get(t *testing.T, id string) *paymentv1.Payment {
	t.Helper()
	res, err := e.internal.GetPayment(context.Background(), &paymentv1.GetPaymentRequest{Id: id})
	if err != nil {
		t.Fatalf("GetPayment(%s): %v", id, err)
	}
	return res.GetPayment()
}

func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitJobs waits until no job of kind is waiting, running or retrying.
func (e *env) waitJobs(t *testing.T, kind string) {
	t.Helper()
	const q = "SELECT count(*) FROM river_job WHERE kind = ? AND state NOT IN ('completed', 'cancelled', 'discarded')"
	deadline := time.Now().Add(waitTimeout)
	for e.count(t, q, kind) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s jobs still open after %s", kind, waitTimeout)
		}
		time.Sleep(jobPoll)
	}
}

// settledEvents waits until every payment event is delivered and returns
// those about payment id, in the order of the changes they tell (River
// delivers them in any order).
func (e *env) settledEvents(t *testing.T, id string) []*paymentv1.PaymentEvent {
	t.Helper()
	e.waitJobs(t, "payment_event")
	evs := e.outcomes.about(id)
	version := func(ev *paymentv1.PaymentEvent) int {
		_, v, _ := strings.Cut(ev.GetEventId(), ":")
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("event id %q: want <payment id>:<version>", ev.GetEventId())
		}
		return n
	}
	slices.SortFunc(evs, func(a, b *paymentv1.PaymentEvent) int { return version(a) - version(b) })
	return evs
}

func (e *env) capture(t *testing.T, payload []byte) {
	var ev struct {
		Type string `json:"type"`
		Data struct {
			Object struct {
				ID            string `json:"id"`
				PaymentIntent string `json:"payment_intent"`
			} `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Errorf("simulator event: %v", err)
		return
	}
	intent := ev.Data.Object.ID
	if ev.Data.Object.PaymentIntent != "" {
		intent = ev.Data.Object.PaymentIntent
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.captured = append(e.captured, simEvent{typ: ev.Type, intentID: intent, payload: payload})
}

// event is the payload of the simulator's event typ about intent.
func (e *env) event(t *testing.T, typ, intent string) []byte {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	var seen []string
	for _, ev := range e.captured {
		if ev.typ == typ && ev.intentID == intent {
			return ev.payload
		}
		seen = append(seen, ev.typ)
	}
	t.Fatalf("no %s event for %s; saw %v", typ, intent, seen)
	return nil
}

// eventTypes are the types of the simulator's events so far, in order.
func (e *env) eventTypes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	types := make([]string, len(e.captured))
	for i, ev := range e.captured {
		types[i] = ev.typ
	}
	return types
}

// postWebhook delivers payload to the webhook endpoint over HTTP.
func (e *env) postWebhook(t *testing.T, payload []byte, signature string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+payment.WebhookPath, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(provider.SignatureHeader, signature)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// signed is a signature of payload made now, as the provider signs.
func (e *env) signed(payload []byte) string {
	return provider.Sign(payload, webhookSecret, e.clock.Now())
}

// httpForm posts a form to u and returns the status and body.
func httpForm(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	res, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

// outcomeRecorder is the Outcomes port in tests: it records the events the
// service delivers, and can refuse deliveries as a down order service would.
type outcomeRecorder struct {
	mu      sync.Mutex
	events  []*paymentv1.PaymentEvent
	refuse  int           // deliveries still to refuse
	refused int           // deliveries refused so far
	changed chan struct{} // closed and replaced on every delivery
}

func newOutcomeRecorder() *outcomeRecorder { return &outcomeRecorder{changed: make(chan struct{})} }

func (r *outcomeRecorder) ApplyPaymentEvent(_ context.Context, ev *paymentv1.PaymentEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse > 0 {
		r.refuse--
		r.refused++
		return errors.New("order service unavailable")
	}
	r.events = append(r.events, proto.CloneOf(ev))
	close(r.changed)
	r.changed = make(chan struct{})
	return nil
}

// about returns the events delivered about payment id so far.
func (r *outcomeRecorder) about(id string) []*paymentv1.PaymentEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*paymentv1.PaymentEvent
	for _, ev := range r.events {
		if ev.GetPayment().GetId() == id {
			out = append(out, ev)
		}
	}
	return out
}

// waitFor waits until an event about payment id satisfies ok, and returns it.
func (r *outcomeRecorder) waitFor(t *testing.T, id, what string, ok func(*paymentv1.Payment) bool) *paymentv1.PaymentEvent {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		r.mu.Lock()
		changed := r.changed
		r.mu.Unlock()
		evs := r.about(id)
		if i := slices.IndexFunc(evs, func(ev *paymentv1.PaymentEvent) bool { return ok(ev.GetPayment()) }); i >= 0 {
			return evs[i]
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no event about payment %s where %s after %s; got %s", id, what, waitTimeout, summary(evs))
		}
	}
}

// summary describes events as "status/refunded" for failure messages.
func summary(evs []*paymentv1.PaymentEvent) string {
	parts := make([]string, len(evs))
	for i, ev := range evs {
		parts[i] = fmt.Sprintf("%s/%d", ev.GetPayment().GetStatus(), ev.GetPayment().GetRefunded().GetAmount())
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// spyProvider is the simulator seen through the Provider port. It counts
// calls and stands in for what the simulator cannot do: fail (the
// provider unreachable), lose an answer after acting (a crash or timeout
// between the provider's work and our write), or give a stale read.
type spyProvider struct {
	provider.Provider

	mu        sync.Mutex
	calls     map[string]int
	failNext  map[string]int    // calls to refuse before reaching the provider
	loseNext  map[string]int    // calls whose answer to drop after the provider acted
	staleGets []provider.Intent // answers for the next Get calls
}

var errUnreachable = errs.Unavailablef("payment provider unavailable")

// before counts a call to method and reports whether to refuse it.
func (s *spyProvider) before(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[method]++
	if s.failNext[method] > 0 {
		s.failNext[method]--
		return errUnreachable
	}
	return nil
}

// after drops the provider's answer to method when asked to.
func (s *spyProvider) after(method string, err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loseNext[method] > 0 {
		s.loseNext[method]--
		return errUnreachable
	}
	return err
}

func (s *spyProvider) fail(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext == nil {
		s.failNext = map[string]int{}
	}
	s.failNext[method] += n
}

func (s *spyProvider) lose(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loseNext == nil {
		s.loseNext = map[string]int{}
	}
	s.loseNext[method] += n
}

func (s *spyProvider) staleGet(in provider.Intent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.staleGets = append(s.staleGets, in)
}

func (s *spyProvider) count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

func (s *spyProvider) CreateIntent(ctx context.Context, req provider.CreateIntent) (provider.Intent, error) {
	if err := s.before("CreateIntent"); err != nil {
		return provider.Intent{}, err
	}
	in, err := s.Provider.CreateIntent(ctx, req)
	return in, s.after("CreateIntent", err)
}

func (s *spyProvider) Confirm(ctx context.Context, intentID, paymentMethod, key string) (provider.Intent, error) {
	if err := s.before("Confirm"); err != nil {
		return provider.Intent{}, err
	}
	in, err := s.Provider.Confirm(ctx, intentID, paymentMethod, key)
	return in, s.after("Confirm", err)
}

func (s *spyProvider) Get(ctx context.Context, intentID string) (provider.Intent, error) {
	if err := s.before("Get"); err != nil {
		return provider.Intent{}, err
	}
	s.mu.Lock()
	if len(s.staleGets) > 0 {
		in := s.staleGets[0]
		s.staleGets = s.staleGets[1:]
		s.mu.Unlock()
		return in, nil
	}
	s.mu.Unlock()
	return s.Provider.Get(ctx, intentID)
}

func (s *spyProvider) Cancel(ctx context.Context, intentID, key string) (provider.Intent, error) {
	if err := s.before("Cancel"); err != nil {
		return provider.Intent{}, err
	}
	in, err := s.Provider.Cancel(ctx, intentID, key)
	return in, s.after("Cancel", err)
}

func (s *spyProvider) Refund(ctx context.Context, req provider.Refund) (provider.RefundResult, error) {
	if err := s.before("Refund"); err != nil {
		return provider.RefundResult{}, err
	}
	r, err := s.Provider.Refund(ctx, req)
	return r, s.after("Refund", err)
}

var code = testkit.Code

// syncBuffer collects output from concurrent writers.
type syncBuffer = testkit.SyncBuffer
