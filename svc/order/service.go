// Package order is the order service: carts (guest and signed-in, merged on
// sign-in), discount codes, checkout and orders with their state machine. It
// implements CartService, DiscountService, CheckoutService and OrderService
// from api/emporium/order/v1.
//
// Checkout is a saga over three services. It holds stock (product), writes
// the order in its own database, and opens a payment (payment); the payment's
// outcome, told synchronously by PayOrder and at least once more by the
// payment service's outbox, makes the order paid or canceled. Every later
// step (commit, release or return stock, refund, expire) is a River job
// inserted in the transaction that changed the order, so a crash anywhere
// leaves a job that finishes or compensates, and each job's remote call is
// idempotent.
package order

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/proto"

	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/payment/v1/paymentv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
)

// DefaultPaymentWindow is how long a checkout holds stock for its payment.
const DefaultPaymentWindow = 15 * time.Minute

// holdGrace keeps stock held a little past the payment window, so a payment
// that succeeds at the last second can still commit it.
const holdGrace = 5 * time.Minute

// Deps are what the service needs from the outside. The clients reach the
// other services (in-process in dev, over the network in production) with
// the internal credential.
type Deps struct {
	DB        *bun.DB // migrated with Migrate
	Catalog   productv1connect.ProductServiceClient
	Inventory productv1connect.InventoryServiceClient
	Shipping  shippingv1connect.ShippingServiceClient
	Payments  paymentv1connect.PaymentServiceClient
	// Notifications, when set, hears about orders confirmed, canceled and
	// refunded (through the outbox); nil: shoppers are not told.
	Notifications notificationv1connect.NotificationServiceClient
	Currency      string   // the shop's ISO 4217 currency
	Tax           TaxRules // nil: no tax anywhere
	// PaymentWindow is how long an order waits for its payment before it
	// is canceled and its stock released; default DefaultPaymentWindow, at
	// most 50 minutes (stock holds last at most an hour).
	PaymentWindow time.Duration
	Log           *slog.Logger
	Now           func() time.Time // default time.Now
	// JobPoll is how often this process looks for jobs other processes
	// queued; default 1 s.
	JobPoll time.Duration
	// JobTimeout bounds each job's run; 0 means the jobs package's default.
	JobTimeout time.Duration
	// CrashPoint, when set, is called at each named step of the checkout
	// saga; tests of crash safety make it end the process there.
	CrashPoint func(step string)
}

// Service implements the order API.
type Service struct {
	store     *store
	catalog   productv1connect.ProductServiceClient
	inventory productv1connect.InventoryServiceClient
	shipping  shippingv1connect.ShippingServiceClient
	payments  paymentv1connect.PaymentServiceClient
	// notifications is nil without a notification service.
	notifications notificationv1connect.NotificationServiceClient
	currency      string
	tax           TaxRules
	window        time.Duration
	log           *slog.Logger
	now           func() time.Time
	crash         func(string)
	jobs          *jobs.Client
	// stopSweep ends the expiry sweep Start began.
	stopSweep func()
}

var (
	_ orderv1connect.CartServiceHandler     = (*Service)(nil)
	_ orderv1connect.DiscountServiceHandler = (*Service)(nil)
	_ orderv1connect.CheckoutServiceHandler = (*Service)(nil)
	_ orderv1connect.OrderServiceHandler    = (*Service)(nil)
)

// ServiceNames are the services this package serves.
var ServiceNames = []string{
	orderv1connect.CartServiceName, orderv1connect.CheckoutServiceName,
	orderv1connect.OrderServiceName, orderv1connect.DiscountServiceName,
}

// New checks deps and returns the service; Start runs its jobs.
func New(d Deps) (*Service, error) {
	switch {
	case d.DB == nil:
		return nil, errors.New("order: DB is required")
	case d.Catalog == nil || d.Inventory == nil || d.Shipping == nil || d.Payments == nil:
		return nil, errors.New("order: Catalog, Inventory, Shipping and Payments clients are required")
	case len(d.Currency) != 3:
		return nil, fmt.Errorf("order: currency %q is not an ISO 4217 code", d.Currency)
	case d.Log == nil:
		return nil, errors.New("order: Log is required")
	case d.PaymentWindow < 0 || d.PaymentWindow > 50*time.Minute:
		return nil, fmt.Errorf("order: payment window %s: want up to 50m", d.PaymentWindow)
	}
	if d.PaymentWindow == 0 {
		d.PaymentWindow = DefaultPaymentWindow
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.CrashPoint == nil {
		d.CrashPoint = func(string) {}
	}
	s := &Service{
		store: &store{db: d.DB}, catalog: d.Catalog, inventory: d.Inventory, shipping: d.Shipping, payments: d.Payments,
		notifications: d.Notifications,
		currency:      d.Currency, tax: d.Tax, window: d.PaymentWindow, log: d.Log, now: d.Now, crash: d.CrashPoint,
	}
	jc, err := jobs.New(d.DB, jobs.Config{
		Workers: s.workers(), Queues: map[string]int{"default": 20}, Log: d.Log,
		FetchPollInterval: d.JobPoll, JobTimeout: d.JobTimeout, RetryPolicy: jobs.Backoff{Base: time.Second, Max: 5 * time.Minute}, // a failed step is retried after 1 s, 2 s, 4 s … up to 5 min
	})
	if err != nil {
		return nil, err
	}
	s.jobs = jc
	return s, nil
}

// Mount registers the Connect handlers on mux.
func (s *Service) Mount(mux *http.ServeMux, opts ...connect.HandlerOption) {
	mux.Handle(orderv1connect.NewCartServiceHandler(s, opts...))
	mux.Handle(orderv1connect.NewDiscountServiceHandler(s, opts...))
	mux.Handle(orderv1connect.NewCheckoutServiceHandler(s, opts...))
	mux.Handle(orderv1connect.NewOrderServiceHandler(s, opts...))
}

// Start works the service's jobs and cancels orders not paid in time
// (expiry.go) until Stop.
func (s *Service) Start(ctx context.Context) error {
	if err := s.jobs.Start(ctx); err != nil {
		return err
	}
	s.stopSweep = jobs.Every(ctx, sweepInterval(s.window), s.sweep)
	return nil
}

// Stop ends the expiry sweep and waits for running jobs, or for ctx to
// end.
func (s *Service) Stop(ctx context.Context) error {
	if s.stopSweep != nil {
		s.stopSweep()
	}
	return s.jobs.Stop(ctx)
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// digest identifies a request's content, for idempotency checks.
func digest(m proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// shopper is the signed-in person calling, or nil for a guest or another
// service.
func shopper(ctx context.Context) *authz.Principal {
	p := authz.FromContext(ctx)
	if p == nil || p.Subject == "" || p.Has(authz.RoleService) {
		return nil
	}
	return p
}

func isStaff(p *authz.Principal) bool { return p.Has(authz.RoleStaff) || p.Has(authz.RoleAdmin) }

// actor names who made a change, for the order history.
func actor(ctx context.Context) string {
	p := authz.FromContext(ctx)
	switch {
	case p == nil:
		return "system"
	case p.Has(authz.RoleService):
		return "service"
	case isStaff(p):
		return "staff:" + p.Subject
	}
	return "customer:" + p.Subject
}
