package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	stripe "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"
)

// StripeConfig configures the Stripe adapter.
type StripeConfig struct {
	APIKey        string // sk_live_… / sk_test_…
	WebhookSecret string // whsec_…
	// BaseURL overrides the API URL (stripe-mock in tests); default Stripe's.
	BaseURL string
	// HTTPClient carries the API calls; default stripe-go's.
	HTTPClient *http.Client
	// ReturnURL is where 3-D Secure redirects come back to; when set, confirm
	// asks Stripe for a redirect_to_url next action.
	ReturnURL string
	// MaxNetworkRetries for stripe-go (it reuses the idempotency key);
	// 0 means stripe-go's default of 2, a negative value disables retries.
	MaxNetworkRetries int64
	// IgnoreAPIVersionMismatch accepts webhook events from an endpoint on an
	// API version other than stripe-go's (we only read id, type, created and
	// the intent id, which are stable).
	IgnoreAPIVersionMismatch bool
}

// Stripe is the Provider backed by the Stripe API.
type Stripe struct {
	cfg    StripeConfig
	client *stripe.Client
}

var _ Provider = (*Stripe)(nil)

// NewStripe returns a Stripe adapter.
func NewStripe(cfg StripeConfig) (*Stripe, error) {
	if cfg.APIKey == "" {
		return nil, errs.Invalidf("stripe: API key is required")
	}
	if cfg.WebhookSecret == "" {
		return nil, errs.Invalidf("stripe: webhook secret is required")
	}
	retries := cfg.MaxNetworkRetries
	switch {
	case retries == 0:
		retries = 2
	case retries < 0:
		retries = 0
	}
	bc := &stripe.BackendConfig{
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripe.Int64(retries),
		// stripe-go's logger can print request details; errors reach the
		// caller through our error kinds instead.
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.BaseURL != "" {
		bc.URL = stripe.String(strings.TrimRight(cfg.BaseURL, "/"))
	}
	client := stripe.NewClient(cfg.APIKey, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))
	return &Stripe{cfg: cfg, client: client}, nil
}

// CreateIntent implements Provider.
func (s *Stripe) CreateIntent(ctx context.Context, req CreateIntent) (Intent, error) {
	if err := validateCreate(req); err != nil {
		return Intent{}, err
	}
	p := &stripe.PaymentIntentCreateParams{
		Amount:             stripe.Int64(req.Amount),
		Currency:           stripe.String(strings.ToLower(req.Currency)),
		PaymentMethodTypes: stripe.StringSlice(MethodTypes),
	}
	if req.OrderID != "" {
		p.AddMetadata("order_id", req.OrderID)
	}
	p.SetIdempotencyKey(req.IdempotencyKey)
	pi, err := s.client.V1PaymentIntents.Create(ctx, p)
	if err != nil {
		return Intent{}, mapStripeErr("create payment intent", err)
	}
	return fromStripe(pi), nil
}

// Confirm implements Provider; paymentMethod is a PaymentMethod id.
func (s *Stripe) Confirm(ctx context.Context, intentID, paymentMethod, idempotencyKey string) (Intent, error) {
	if err := requireKey(idempotencyKey); err != nil {
		return Intent{}, err
	}
	if intentID == "" || paymentMethod == "" {
		return Intent{}, errs.Invalidf("intent id and payment method are required")
	}
	p := &stripe.PaymentIntentConfirmParams{PaymentMethod: stripe.String(paymentMethod)}
	if s.cfg.ReturnURL != "" {
		p.ReturnURL = stripe.String(s.cfg.ReturnURL)
	}
	p.SetIdempotencyKey(idempotencyKey)
	pi, err := s.client.V1PaymentIntents.Confirm(ctx, intentID, p)
	if err != nil {
		return Intent{}, mapStripeErr("confirm payment intent", err)
	}
	return fromStripe(pi), nil
}

// Get implements Provider.
func (s *Stripe) Get(ctx context.Context, intentID string) (Intent, error) {
	if intentID == "" {
		return Intent{}, errs.Invalidf("intent id is required")
	}
	pi, err := s.client.V1PaymentIntents.Retrieve(ctx, intentID, nil)
	if err != nil {
		return Intent{}, mapStripeErr("get payment intent", err)
	}
	return fromStripe(pi), nil
}

// Cancel implements Provider.
func (s *Stripe) Cancel(ctx context.Context, intentID, idempotencyKey string) (Intent, error) {
	if err := requireKey(idempotencyKey); err != nil {
		return Intent{}, err
	}
	if intentID == "" {
		return Intent{}, errs.Invalidf("intent id is required")
	}
	p := &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("requested_by_customer")}
	p.SetIdempotencyKey(idempotencyKey)
	pi, err := s.client.V1PaymentIntents.Cancel(ctx, intentID, p)
	if err != nil {
		return Intent{}, mapStripeErr("cancel payment intent", err)
	}
	return fromStripe(pi), nil
}

// Refund implements Provider.
func (s *Stripe) Refund(ctx context.Context, req Refund) (RefundResult, error) {
	if err := requireKey(req.IdempotencyKey); err != nil {
		return RefundResult{}, err
	}
	if req.IntentID == "" {
		return RefundResult{}, errs.Invalidf("intent id is required")
	}
	if req.Amount < 0 {
		return RefundResult{}, errs.Invalidf("refund amount must not be negative")
	}
	p := &stripe.RefundCreateParams{PaymentIntent: stripe.String(req.IntentID)}
	if req.Amount > 0 {
		p.Amount = stripe.Int64(req.Amount)
	}
	p.SetIdempotencyKey(req.IdempotencyKey)
	r, err := s.client.V1Refunds.Create(ctx, p)
	if err != nil {
		return RefundResult{}, mapStripeErr("create refund", err)
	}
	out := RefundResult{ID: r.ID, IntentID: req.IntentID, Amount: r.Amount, Currency: string(r.Currency), Status: string(r.Status)}
	if r.PaymentIntent != nil && r.PaymentIntent.ID != "" {
		out.IntentID = r.PaymentIntent.ID
	}
	return out, nil
}

// ParseWebhook implements Provider. Our Verify checks the timestamp against
// now in both directions (stripe-go only rejects old ones, and against the
// wall clock); stripe-go then checks the signature again and the API version.
func (s *Stripe) ParseWebhook(payload []byte, signatureHeader string, now time.Time) (Event, error) {
	if err := Verify(payload, signatureHeader, s.cfg.WebhookSecret, now, DefaultTolerance); err != nil {
		return Event{}, err
	}
	ev, err := webhook.ConstructEventWithOptions(payload, signatureHeader, s.cfg.WebhookSecret, webhook.ConstructEventOptions{
		Tolerance:                DefaultTolerance,
		IgnoreAPIVersionMismatch: s.cfg.IgnoreAPIVersionMismatch,
	})
	if err != nil {
		return Event{}, &errs.Error{Kind: errs.Unauthenticated, Message: "webhook rejected", Err: err}
	}
	out := Event{ID: ev.ID, Type: string(ev.Type), Created: time.Unix(ev.Created, 0).UTC()}
	if ev.Data != nil {
		out.IntentID = intentIDOf(ev.Data.Raw)
	}
	return out, nil
}

func fromStripe(pi *stripe.PaymentIntent) Intent {
	in := Intent{
		ID: pi.ID, Amount: pi.Amount, Currency: string(pi.Currency),
		Status: Status(pi.Status), ClientSecret: pi.ClientSecret,
	}
	if pi.NextAction != nil && pi.NextAction.RedirectToURL != nil {
		in.NextAction = pi.NextAction.RedirectToURL.URL
	}
	return in
}

// mapStripeErr turns a stripe-go error into an error kind. Only the decline
// message (written by Stripe for cardholders) reaches callers; other details
// stay in the wrapped cause, which is logged, never sent.
func mapStripeErr(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *stripe.Error
	if !errors.As(err, &se) { // network failures and unreadable responses
		return &errs.Error{Kind: errs.Unavailable, Message: "payment provider unavailable", Err: err}
	}
	switch {
	case se.Type == stripe.ErrorTypeCard:
		msg := se.Msg
		if msg == "" {
			msg = "card declined"
		}
		return &errs.Error{Kind: errs.FailedPrecondition, Message: msg, Err: err}
	case se.Type == stripe.ErrorTypeIdempotency:
		return &errs.Error{Kind: errs.Conflict, Message: "idempotency key was used with different parameters", Err: err}
	case se.Code == stripe.ErrorCodeResourceMissing || se.HTTPStatusCode == http.StatusNotFound:
		return &errs.Error{Kind: errs.NotFound, Message: "payment not found at provider", Err: err}
	case se.Code == stripe.ErrorCodePaymentIntentUnexpectedState:
		return &errs.Error{Kind: errs.FailedPrecondition, Message: "payment is not in a state that allows this", Err: err}
	case se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500 || se.Type == stripe.ErrorTypeAPI:
		return &errs.Error{Kind: errs.Unavailable, Message: "payment provider unavailable", Err: err}
	}
	return &errs.Error{Kind: errs.Internal, Message: "payment provider: " + op, Err: err}
}
