// Package payment is the payment service: it takes payments for orders
// through a payment provider (provider.Simulator in dev, provider.Stripe in
// production), cancels and refunds them, and follows the provider's
// webhooks. It implements PaymentService from api/emporium/payment/v1.
//
// Every change to a payment, whatever brings it (a confirm, a webhook, a
// cancel, a refund), goes through one function, apply, which folds the
// provider's latest state in monotonically and, in the same transaction,
// puts a PaymentEvent in the River outbox. A worker hands each event to
// Outcomes (the order service, in the composition root), and River retries
// until that succeeds.
//
// The provider is never called inside a database transaction: calls take
// network time, and in dev the simulator hands its webhooks to
// ReceiveWebhook synchronously, from inside the call, which on SQLite (one
// connection) would wait on the caller's transaction for ever.
//
// Payment methods are ids (Stripe PaymentMethod ids, or the simulator's
// pm_sim_… ids): card details never reach the service, and the API refuses
// anything that looks like a card number. The ids go to the provider and
// nowhere else: they are never stored or logged. With the simulator, the
// browser tokenizes its test cards at SimulatorTokenizePath, as Stripe.js
// does at Stripe.
package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/proto"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/gen/emporium/payment/v1/paymentv1connect"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

// Outcomes is told about every change to a payment: its status or the sum
// of its succeeded refunds. The composition root adapts the order service's
// client to it. Events arrive at least once and possibly out of order (see
// PaymentEvent); an error makes River deliver the event again later, with
// backoff.
type Outcomes interface {
	ApplyPaymentEvent(ctx context.Context, ev *paymentv1.PaymentEvent) error
}

// Deps are what the service needs from the outside.
type Deps struct {
	DB       *bun.DB // migrated with Migrate
	Provider provider.Provider
	// ProviderName is recorded on each payment: "simulator" or "stripe".
	ProviderName string
	// PublishableKey is Stripe's publishable key (pk_…), which apps load
	// Stripe.js with; required with Stripe, unused with the simulator.
	PublishableKey string
	Outcomes       Outcomes
	Currency       string // the shop's ISO 4217 currency, e.g. "USD"
	Log            *slog.Logger
	Now            func() time.Time // defaults to time.Now
	// JobPoll is how often the service's River client looks for jobs;
	// 0 means River's default (1 s).
	JobPoll time.Duration
	// JobTimeout bounds each job's run; 0 means the jobs package's default.
	JobTimeout time.Duration
}

// Service implements the payment API.
type Service struct {
	store          *store
	provider       provider.Provider
	providerName   string
	publishableKey string
	currency       string
	log            *slog.Logger
	now            func() time.Time
	jobs           *jobs.Client
}

var _ paymentv1connect.PaymentServiceHandler = (*Service)(nil)

// New checks deps and returns the service. Its jobs (delivering events to
// Outcomes, finishing interrupted refunds) run between Start and Stop.
func New(d Deps) (*Service, error) {
	switch {
	case d.DB == nil:
		return nil, errors.New("payment: DB is required")
	case d.Provider == nil:
		return nil, errors.New("payment: Provider is required")
	case d.ProviderName != "simulator" && d.ProviderName != "stripe":
		return nil, fmt.Errorf("payment: provider name %q: want simulator or stripe", d.ProviderName)
	case d.ProviderName == "stripe" && !strings.HasPrefix(d.PublishableKey, "pk_"):
		return nil, errors.New("payment: Stripe needs its publishable key (pk_live_… or pk_test_…), which apps load Stripe.js with")
	case d.Outcomes == nil:
		return nil, errors.New("payment: Outcomes is required")
	case !isCurrencyCode(d.Currency):
		return nil, fmt.Errorf("payment: currency %q is not an upper-case ISO 4217 code", d.Currency)
	case d.Log == nil:
		return nil, errors.New("payment: Log is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Service{
		store: &store{db: d.DB}, provider: d.Provider, providerName: d.ProviderName,
		publishableKey: d.PublishableKey, currency: d.Currency, log: d.Log, now: d.Now,
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &eventWorker{outcomes: d.Outcomes})
	river.AddWorker(workers, &refundWorker{svc: s})
	client, err := jobs.New(d.DB, jobs.Config{Workers: workers, Log: d.Log, FetchPollInterval: d.JobPoll, JobTimeout: d.JobTimeout})
	if err != nil {
		return nil, fmt.Errorf("payment: %w", err)
	}
	s.jobs = client
	return s, nil
}

func isCurrencyCode(c string) bool {
	return len(c) == 3 && strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// ServiceNames are the fully-qualified names of the services this package
// serves, for health checks, reflection and routing.
var ServiceNames = []string{paymentv1connect.PaymentServiceName}

// Mount registers the Connect handler and the provider's webhook endpoint
// (POST WebhookPath) on mux. The webhook is authenticated by its signature,
// not by opts' interceptors.
func (s *Service) Mount(mux *http.ServeMux, opts ...connect.HandlerOption) {
	mux.Handle(paymentv1connect.NewPaymentServiceHandler(s, opts...))
	mux.HandleFunc("POST "+WebhookPath, s.serveWebhook)
}

// Start works the service's jobs in the background until Stop (or the end
// of ctx, which also cancels jobs that are running).
func (s *Service) Start(ctx context.Context) error { return s.jobs.Start(ctx) }

// Stop stops taking jobs and waits for running ones, or for ctx to end.
func (s *Service) Stop(ctx context.Context) error { return s.jobs.Stop(ctx) }

// GetPaymentConfig implements PaymentService.
func (s *Service) GetPaymentConfig(context.Context, *paymentv1.GetPaymentConfigRequest) (*paymentv1.GetPaymentConfigResponse, error) {
	res := &paymentv1.GetPaymentConfigResponse{
		Provider: s.providerName, PaymentMethodTypes: provider.MethodTypes, Currency: s.currency,
	}
	if s.providerName == "stripe" {
		res.PublishableKey = s.publishableKey
	} else {
		res.TokenizePath = SimulatorTokenizePath
	}
	return res, nil
}

// CreatePayment implements PaymentService.
func (s *Service) CreatePayment(ctx context.Context, req *paymentv1.CreatePaymentRequest) (*paymentv1.CreatePaymentResponse, error) {
	amount := req.GetAmount()
	if amount.GetCurrency() != s.currency {
		return nil, errs.Invalidf("amount.currency: the shop takes payments in %s, not %s", s.currency, amount.GetCurrency())
	}
	if amount.GetAmount() <= 0 {
		return nil, errs.Invalidf("amount.amount must be positive")
	}
	key := req.GetIdempotencyKey()
	hash := createHash(req)
	if p, err := s.replayCreate(ctx, key, hash); err != nil || p != nil {
		return createResponse(p, err)
	}
	// The provider's key derives from ours, so if we die between its call
	// and our insert, the caller's retry gets the same intent back.
	in, err := s.provider.CreateIntent(ctx, provider.CreateIntent{
		Amount: amount.GetAmount(), Currency: s.currency, OrderID: req.GetOrderId(),
		IdempotencyKey: providerKey("create", key),
	})
	if err != nil {
		return nil, err
	}
	status, err := statusOf(in.Status)
	if err != nil {
		return nil, err
	}
	now := micros(s.now())
	p := &paymentRow{
		ID: newID(), OrderID: req.GetOrderId(), Amount: amount.GetAmount(), Currency: s.currency,
		Status: status, Provider: s.providerName, ProviderPaymentID: in.ID, ClientSecret: in.ClientSecret,
		NextActionURL: in.NextAction, IdempotencyKey: key, RequestHash: hash,
		Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	err = s.store.insertPayment(ctx, p)
	if db.IsUniqueViolation(err) {
		// A concurrent call with the same key, which got the same intent,
		// stored it first.
		prev, err := s.replayCreate(ctx, key, hash)
		if err == nil && prev == nil {
			err = fmt.Errorf("payment intent %s is already recorded for another payment", in.ID)
		}
		return createResponse(prev, err)
	}
	return createResponse(p, err)
}

// replayCreate returns the payment an earlier CreatePayment with key made,
// or nil when there is none.
func (s *Service) replayCreate(ctx context.Context, key, hash string) (*paymentRow, error) {
	p, err := s.store.paymentByKey(ctx, key)
	if err != nil || p == nil {
		return nil, err
	}
	if p.RequestHash != hash {
		return nil, errs.Conflictf("idempotency_key %q was already used for a payment of another order or amount", key)
	}
	return p, nil
}

func createResponse(p *paymentRow, err error) (*paymentv1.CreatePaymentResponse, error) {
	if err != nil {
		return nil, err
	}
	return &paymentv1.CreatePaymentResponse{Payment: p.toProto()}, nil
}

func createHash(req *paymentv1.CreatePaymentRequest) string {
	clone := proto.CloneOf(req)
	clone.IdempotencyKey = ""
	return digest(clone)
}

// ConfirmPayment implements PaymentService. The provider is configured
// with where to send shoppers back after authentication (see
// provider.StripeConfig.ReturnURL), so req.return_url is not passed on.
func (s *Service) ConfirmPayment(ctx context.Context, req *paymentv1.ConfirmPaymentRequest) (*paymentv1.ConfirmPaymentResponse, error) {
	p, err := s.store.payment(ctx, req.GetPaymentId())
	if err != nil {
		return nil, err
	}
	switch p.Status {
	case statusSucceeded:
		return &paymentv1.ConfirmPaymentResponse{Payment: p.toProto()}, nil
	case statusCanceled:
		return nil, errs.FailedPreconditionf("payment %q was canceled; create a new payment", p.ID)
	}
	key := providerKey("confirm", p.ID, req.GetIdempotencyKey())
	in, err := s.provider.Confirm(ctx, p.ProviderPaymentID, req.GetPaymentMethod(), key)
	var c change
	switch {
	case err == nil:
		c = change{intent: &in}
	case errs.Is(err, errs.FailedPrecondition):
		// A decline, or an intent its state keeps from being confirmed (it
		// went on without us hearing yet): its current state tells which.
		cur, err := s.provider.Get(ctx, p.ProviderPaymentID)
		if err != nil {
			return nil, err
		}
		c = change{intent: &cur, declined: cur.Status == provider.StatusRequiresPaymentMethod}
	default:
		return nil, scrub(err, req.GetPaymentMethod())
	}
	if p, err = s.applyRead(ctx, p, c); err != nil {
		return nil, err
	}
	if p.Status == statusCanceled {
		return nil, errs.FailedPreconditionf("payment %q was canceled; create a new payment", p.ID)
	}
	return &paymentv1.ConfirmPaymentResponse{Payment: p.toProto()}, nil
}

// scrub keeps a payment method out of a provider error, which may be sent
// to the caller or logged: should the provider echo the value, it is
// replaced.
func scrub(err error, paymentMethod string) error {
	if paymentMethod == "" || !strings.Contains(err.Error(), paymentMethod) {
		return err
	}
	msg := "payment provider error"
	var e *errs.Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	redact := strings.NewReplacer(paymentMethod, "[payment method]")
	return &errs.Error{Kind: errs.KindOf(err), Message: redact.Replace(msg), Err: errors.New(redact.Replace(err.Error()))}
}

// GetPayment implements PaymentService.
func (s *Service) GetPayment(ctx context.Context, req *paymentv1.GetPaymentRequest) (*paymentv1.GetPaymentResponse, error) {
	p, err := s.store.payment(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &paymentv1.GetPaymentResponse{Payment: p.toProto()}, nil
}

// CancelPayment implements PaymentService.
func (s *Service) CancelPayment(ctx context.Context, req *paymentv1.CancelPaymentRequest) (*paymentv1.CancelPaymentResponse, error) {
	p, err := s.store.payment(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	if p.Status != statusCanceled {
		if p, err = s.cancel(ctx, p); err != nil {
			return nil, err
		}
	}
	return &paymentv1.CancelPaymentResponse{Payment: p.toProto()}, nil
}

func (s *Service) cancel(ctx context.Context, p *paymentRow) (*paymentRow, error) {
	if p.Status == statusSucceeded {
		return nil, errs.FailedPreconditionf("payment succeeded; refund it instead")
	}
	// Keyed by version: a retry of this cancel replays it at the provider,
	// while a cancel after the payment changed is a new request.
	key := providerKey("cancel", p.ID, strconv.FormatInt(p.Version, 10))
	in, err := s.provider.Cancel(ctx, p.ProviderPaymentID, key)
	switch {
	case errs.Is(err, errs.FailedPrecondition):
		// The intent went on at the provider (it succeeded, say) before its
		// webhook reached us.
		in, err = s.provider.Get(ctx, p.ProviderPaymentID)
	case errs.Is(err, errs.NotFound):
		// The provider has no such intent, so nothing can be charged
		// through it: the payment is canceled. (The simulator forgets its
		// intents when its process restarts; without this, the order
		// waiting on this cancel would hold its stock for ever.)
		s.log.WarnContext(ctx, "payment intent unknown to the provider; canceling the payment", "payment", p.ID, "intent", p.ProviderPaymentID)
		in, err = provider.Intent{ID: p.ProviderPaymentID, Amount: p.Amount, Currency: p.Currency, Status: provider.StatusCanceled}, nil
	}
	if err != nil {
		return nil, err
	}
	if p, err = s.apply(ctx, p.ID, change{intent: &in}); err != nil {
		return nil, err
	}
	switch p.Status {
	case statusCanceled:
		return p, nil
	case statusSucceeded:
		return nil, errs.FailedPreconditionf("payment succeeded; refund it instead")
	}
	return nil, errs.FailedPreconditionf("payment is %s at the provider and cannot be canceled now", statusName(p.Status))
}
