package order

import (
	"context"
	"flag"
	"os"
	"time"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/payment/v1/paymentv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	"github.com/emporiumhq/emporium/internal/platform/module"
)

// Module is the order service's wiring: carts, checkout and orders, calling
// the catalog, shipping and payment services and telling the notification
// service (when one runs) what happened.
type Module struct {
	module.Base[Deps, *Service]

	tax           TaxRules
	paymentWindow time.Duration
	crashAt       string
}

var _ module.Module = (*Module)(nil)

// Name implements module.Module.
func (*Module) Name() string { return "order" }

// Routes implements module.Module.
func (*Module) Routes() module.Routes { return module.Routes{Services: ServiceNames} }

// Peers implements module.Module.
func (*Module) Peers() []module.Peer {
	return []module.Peer{{Name: "product"}, {Name: "shipping"}, {Name: "payment"}, {Name: "notification", Optional: true}}
}

// Flags implements module.Module.
func (m *Module) Flags(fs *flag.FlagSet) {
	fs.Var(taxFlag{&m.tax}, "tax-rules", "order: sales tax per destination as COUNTRY[-REGION]=percent, e.g. US-CA=7.25,DE=19 (region wins over country; goods after discounts are taxed)")
	fs.DurationVar(&m.paymentWindow, "payment-window", DefaultPaymentWindow, "order: how long a checkout holds stock for its payment before the order is canceled (at most 50m)")
	fs.StringVar(&m.crashAt, "crash-at", "", "testing only: end the process at this checkout step (e.g. checkout.reserved) to prove crash safety; never in production")
}

// Migrate implements module.Module.
func (*Module) Migrate(ctx context.Context, d *bun.DB) ([]string, error) { return Migrate(ctx, d) }

// Open implements module.Module.
func (m *Module) Open(_ context.Context, env *module.Env) (*module.Running, error) {
	deps := Deps{
		DB:            env.DB,
		Catalog:       module.Client(env, "product", productv1connect.NewProductServiceClient),
		Inventory:     module.Client(env, "product", productv1connect.NewInventoryServiceClient),
		Shipping:      module.Client(env, "shipping", shippingv1connect.NewShippingServiceClient),
		Payments:      module.Client(env, "payment", paymentv1connect.NewPaymentServiceClient),
		Notifications: module.OptionalClient(env, "notification", notificationv1connect.NewNotificationServiceClient),
		Currency:      env.Currency,
		Tax:           m.tax,
		PaymentWindow: m.paymentWindow,
		Log:           env.Log,
		JobPoll:       env.JobPoll,
		JobTimeout:    env.JobTimeout,
	}
	if m.crashAt != "" {
		deps.CrashPoint = func(step string) {
			if step == m.crashAt {
				env.Log.Error("crashing on purpose (--crash-at)", "step", step)
				os.Exit(75)
			}
		}
	}
	svc, err := m.Make(deps, New)
	if err != nil {
		return nil, err
	}
	return module.Run(svc, env, nil), nil
}

// taxFlag is --tax-rules.
type taxFlag struct{ rules *TaxRules }

func (f taxFlag) String() string {
	if f.rules == nil {
		return ""
	}
	return f.rules.String()
}

func (f taxFlag) Set(s string) error {
	r, err := ParseTaxRules(s)
	if err != nil {
		return err
	}
	*f.rules = r
	return nil
}
