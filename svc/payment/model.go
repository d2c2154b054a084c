package payment

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

// Payment statuses as stored: the PaymentStatus numbers.
const (
	statusRequiresPaymentMethod = int32(paymentv1.PaymentStatus_PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD)
	statusRequiresAction        = int32(paymentv1.PaymentStatus_PAYMENT_STATUS_REQUIRES_ACTION)
	statusProcessing            = int32(paymentv1.PaymentStatus_PAYMENT_STATUS_PROCESSING)
	statusSucceeded             = int32(paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED)
	statusCanceled              = int32(paymentv1.PaymentStatus_PAYMENT_STATUS_CANCELED)
)

// Refund statuses as stored.
const (
	refundPending   int32 = 1 // recorded; the provider may not have it yet
	refundSucceeded int32 = 2
	refundFailed    int32 = 3 // refused by the provider; its amount is refundable again
)

// What last_error says, in words for shoppers.
const (
	msgDeclined   = "Your card was declined. Try another card or payment method."
	msgAuthFailed = "Your card could not be authenticated. Try again or use another card or payment method."
)

type paymentRow struct {
	bun.BaseModel `bun:"table:payments,alias:p"`

	ID                string `bun:",pk"`
	OrderID           string
	Amount            int64
	Currency          string
	Status            int32
	Provider          string
	ProviderPaymentID string
	ClientSecret      string
	NextActionURL     string `bun:"next_action_url"`
	LastError         string
	Refunded          int64 // held by refunds, succeeded or in flight
	RefundPending     int64 // the part of Refunded still in flight
	IdempotencyKey    string
	RequestHash       string
	Version           int64
	CreatedAt         int64 // Unix µs
	UpdatedAt         int64 // Unix µs
}

type refundRow struct {
	bun.BaseModel `bun:"table:refunds,alias:r"`

	ID               string `bun:",pk"`
	PaymentID        string
	Amount           int64
	Reason           string
	Status           int32
	ProviderRefundID string
	IdempotencyKey   string
	RequestHash      string
	CreatedAt        int64 // Unix µs
	UpdatedAt        int64 // Unix µs
}

type webhookEventRow struct {
	bun.BaseModel `bun:"table:webhook_events,alias:w"`

	ID         string `bun:",pk"`
	Type       string
	ReceivedAt int64 // Unix µs
}

// succeededRefunds is Payment.refunded: the sum of succeeded refunds.
func (r *paymentRow) succeededRefunds() int64 { return r.Refunded - r.RefundPending }

func (r *paymentRow) toProto() *paymentv1.Payment {
	return &paymentv1.Payment{
		Id:                r.ID,
		OrderId:           r.OrderID,
		Amount:            &typev1.Money{Amount: r.Amount, Currency: r.Currency},
		Status:            paymentv1.PaymentStatus(r.Status),
		Refunded:          &typev1.Money{Amount: r.succeededRefunds(), Currency: r.Currency},
		NextActionUrl:     r.NextActionURL,
		LastError:         r.LastError,
		Provider:          r.Provider,
		ProviderPaymentId: r.ProviderPaymentID,
		ClientSecret:      r.ClientSecret,
		CreateTime:        timestamppb.New(time.UnixMicro(r.CreatedAt)),
		UpdateTime:        timestamppb.New(time.UnixMicro(r.UpdatedAt)),
	}
}

// statusOf maps a provider intent status to ours. Stripe's
// requires_confirmation (a method attached, not yet confirmed) still needs
// the shopper's payment method as far as we are concerned.
func statusOf(s provider.Status) (int32, error) {
	switch s {
	case provider.StatusRequiresPaymentMethod, provider.StatusRequiresConfirmation:
		return statusRequiresPaymentMethod, nil
	case provider.StatusRequiresAction:
		return statusRequiresAction, nil
	case provider.StatusProcessing:
		return statusProcessing, nil
	case provider.StatusSucceeded:
		return statusSucceeded, nil
	case provider.StatusCanceled:
		return statusCanceled, nil
	}
	return 0, fmt.Errorf("payment provider reported unknown intent status %q", s)
}

// statusName names a stored status for messages.
func statusName(s int32) string {
	switch s {
	case statusRequiresPaymentMethod:
		return string(provider.StatusRequiresPaymentMethod)
	case statusRequiresAction:
		return string(provider.StatusRequiresAction)
	case statusProcessing:
		return string(provider.StatusProcessing)
	case statusSucceeded:
		return string(provider.StatusSucceeded)
	case statusCanceled:
		return string(provider.StatusCanceled)
	}
	return fmt.Sprintf("status %d", s)
}

// terminal reports whether a payment in status s can change no more.
func terminal(s int32) bool { return s == statusSucceeded || s == statusCanceled }

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// digest fingerprints a request for idempotency checks.
func digest(m proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// providerKey derives the provider's idempotency key for op from our own
// identifiers, so a retried call reaches the provider with the key of the
// first and gets the first's result. Callers' keys are namespaced by op (a
// caller may reuse one key for creating and confirming) and hashed, which
// bounds the length (Stripe allows 255 characters).
func providerKey(op string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "emporium-payment-" + op + "-" + hex.EncodeToString(h.Sum(nil))
}
