package payment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/uptrace/bun"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

// Module is the payment service's wiring: its provider (the local
// simulator or Stripe), the provider's webhooks, and the order service it
// reports outcomes to.
type Module struct {
	module.Base[Deps, *Service]

	provider       string
	stripeKey      string
	stripeSecret   string
	stripeURL      string
	publishableKey string
	simRetention   time.Duration

	sim *provider.Simulator
}

var _ module.Module = (*Module)(nil)

// Name implements module.Module.
func (*Module) Name() string { return "payment" }

// Routes implements module.Module: the provider's webhooks and the
// simulator's pages (3-D Secure, and its card tokenization endpoint).
func (*Module) Routes() module.Routes {
	return module.Routes{Services: ServiceNames, Paths: []string{"/webhooks/", "/payment-simulator/"}}
}

// Peers implements module.Module.
func (*Module) Peers() []module.Peer { return []module.Peer{{Name: "order"}} }

// Flags implements module.Module.
func (m *Module) Flags(fs *flag.FlagSet) {
	fs.StringVar(&m.provider, "payment-provider", "simulator", "payment: simulator (local, test cards, no money moves) or stripe")
	fs.StringVar(&m.stripeKey, "stripe-secret-key", "", "payment: Stripe secret API key (sk_live_… or sk_test_…), for --payment-provider=stripe")
	fs.StringVar(&m.stripeSecret, "stripe-webhook-secret", "", "payment: signing secret of the Stripe webhook endpoint (whsec_…) that posts to /webhooks/payments")
	fs.StringVar(&m.publishableKey, "stripe-publishable-key", "", "payment: Stripe publishable key (pk_live_… or pk_test_…) that apps load Stripe.js with, for --payment-provider=stripe")
	fs.StringVar(&m.stripeURL, "stripe-api-url", "", "payment: Stripe API base URL; empty: Stripe's (set it to a stripe-mock to test)")
	fs.DurationVar(&m.simRetention, "payment-simulator-retention", provider.DefaultSimulatorRetention, "payment: how long the simulator (which keeps payments in memory) remembers a payment after its last change, and an idempotency key")
}

// Migrate implements module.Module.
func (*Module) Migrate(ctx context.Context, d *bun.DB) ([]string, error) { return Migrate(ctx, d) }

// simulatorWebhookDelay is how long the simulator's in-process webhooks
// wait before they are delivered. Stripe sends an event after the API call
// that caused it has answered, usually within seconds. Delivered at once,
// the succeeded event of every card payment reached the payment service
// while ConfirmPayment was still recording the same outcome, waited on the
// payment's row lock and found nothing to change (5 statements, and lock
// waits in PayOrder's latency). A moment later it finds the payment already
// final and costs one read.
const simulatorWebhookDelay = 250 * time.Millisecond

// Open implements module.Module.
func (m *Module) Open(ctx context.Context, env *module.Env) (*module.Running, error) {
	var (
		prov    provider.Provider
		svc     *Service
		release func()
		err     error
	)
	switch m.provider {
	case "simulator", "":
		m.sim, err = provider.NewSimulator(provider.SimulatorConfig{
			WebhookSecret: randomHex(24), // its webhooks stay in this process
			ActionURL:     env.PublicURL + SimulatorActionPath,
			Retention:     m.simRetention,
			// Its webhooks are delivered in-process, as Stripe's would
			// arrive: signed, checked, deduplicated, on their own, not
			// inside the call that caused them, and after that call has
			// answered (simulatorWebhookDelay). Closing the module drops
			// those not yet due.
			OnEventDelay: simulatorWebhookDelay,
			OnEvent: func(payload []byte, sig string) {
				if err := svc.ReceiveWebhook(context.WithoutCancel(ctx), payload, sig); err != nil {
					env.Log.Warn("simulated payment webhook not applied", "err", err)
				}
			},
		})
		if err != nil {
			return nil, err
		}
		prov, release = m.sim, func() { m.sim.Close() }
	case "stripe":
		prov, err = provider.NewStripe(provider.StripeConfig{
			APIKey: m.stripeKey, WebhookSecret: m.stripeSecret, BaseURL: m.stripeURL, ReturnURL: env.PublicURL,
		})
		if err != nil {
			return nil, fmt.Errorf("--payment-provider=stripe: %w (set --stripe-secret-key and --stripe-webhook-secret)", err)
		}
	default:
		return nil, fmt.Errorf("--payment-provider %q: want simulator or stripe", m.provider)
	}
	deps := Deps{
		DB: env.DB, Provider: prov, ProviderName: m.providerName(), PublishableKey: m.publishableKey,
		Outcomes: orderOutcomes{module.Client(env, "order", orderv1connect.NewOrderServiceClient)},
		Currency: env.Currency, Log: env.Log, JobPoll: env.JobPoll, JobTimeout: env.JobTimeout,
	}
	if svc, err = m.Make(deps, New); err != nil {
		if release != nil {
			release()
		}
		if m.provider == "stripe" && !strings.HasPrefix(m.publishableKey, "pk_") {
			return nil, fmt.Errorf("--payment-provider=stripe: set --stripe-publishable-key (pk_…): apps load Stripe.js with it")
		}
		return nil, err
	}
	return &module.Running{
		Handler: module.Mux(func(mux *http.ServeMux) {
			svc.Mount(mux, env.Handler...)
			if m.sim != nil {
				mux.Handle(SimulatorActionPath, SimulatorActionPage(m.sim))
				mux.Handle(SimulatorTokenizePath, SimulatorTokenizer(m.sim))
			}
		}),
		Start: svc.Start, Stop: svc.Stop, Close: release,
	}, nil
}

func (m *Module) providerName() string {
	if m.provider == "" {
		return "simulator"
	}
	return m.provider
}

// Simulator is the local payment simulator, when it is the provider.
func (m *Module) Simulator() *provider.Simulator { return m.sim }

// orderOutcomes tells the order service about payments.
type orderOutcomes struct {
	orders orderv1connect.OrderServiceClient
}

func (o orderOutcomes) ApplyPaymentEvent(ctx context.Context, ev *paymentv1.PaymentEvent) error {
	_, err := o.orders.ApplyPaymentEvent(ctx, &orderv1.ApplyPaymentEventRequest{Event: ev})
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
