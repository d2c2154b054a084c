// Package provider is the payment provider port: the payment service creates,
// confirms, cancels and refunds payment intents through Provider, and learns
// about asynchronous outcomes from signed webhooks. Two adapters implement it:
// Simulator (the in-process dev default, with Stripe's states and webhooks)
// and Stripe (stripe-go, tested against stripe-mock).
//
// Money is int64 minor units plus a lower-case ISO 4217 currency code. Card
// numbers are never stored or logged: the simulator only inspects them to pick
// an outcome.
package provider

import (
	"context"
	"time"
)

// Status is a payment intent state, named as Stripe names it.
type Status string

const (
	StatusRequiresPaymentMethod Status = "requires_payment_method"
	StatusRequiresConfirmation  Status = "requires_confirmation"
	StatusRequiresAction        Status = "requires_action"
	StatusProcessing            Status = "processing"
	StatusSucceeded             Status = "succeeded"
	StatusCanceled              Status = "canceled"
)

// Intent is a provider's payment intent.
type Intent struct {
	ID           string
	Amount       int64 // minor units
	Currency     string
	Status       Status
	ClientSecret string
	NextAction   string // e.g. the redirect URL for 3-D Secure; empty when none
}

// CreateIntent asks for a new payment intent.
type CreateIntent struct {
	Amount         int64 // minor units, > 0
	Currency       string
	OrderID        string
	IdempotencyKey string
}

// Refund asks to refund part or all of a succeeded intent.
type Refund struct {
	IntentID       string
	Amount         int64 // minor units; 0 refunds what remains
	IdempotencyKey string
}

// RefundResult is a created refund.
type RefundResult struct {
	ID       string
	IntentID string
	Amount   int64
	Currency string
	Status   string // succeeded, pending, failed, canceled
}

// Event is a verified webhook event. Events may arrive twice and out of
// order: consumers dedupe by ID and must not assume Created ordering.
type Event struct {
	ID       string
	Type     string // e.g. payment_intent.succeeded, refund.created
	IntentID string
	Created  time.Time
}

// Provider is the port the payment service talks to. Mutating calls require
// an idempotency key: the same key with the same parameters returns the first
// result; with different parameters it fails with errs.Conflict.
type Provider interface {
	CreateIntent(ctx context.Context, req CreateIntent) (Intent, error)
	// Confirm attaches a payment method and confirms. paymentMethod is a test
	// card number or token for the simulator, a PaymentMethod id for Stripe.
	// A declined card is an errs.FailedPrecondition.
	Confirm(ctx context.Context, intentID, paymentMethod, idempotencyKey string) (Intent, error)
	Get(ctx context.Context, intentID string) (Intent, error)
	Cancel(ctx context.Context, intentID, idempotencyKey string) (Intent, error)
	Refund(ctx context.Context, req Refund) (RefundResult, error)
	// ParseWebhook verifies the Stripe-Signature header (DefaultTolerance
	// either side of now) and returns the event.
	ParseWebhook(payload []byte, signatureHeader string, now time.Time) (Event, error)
}
