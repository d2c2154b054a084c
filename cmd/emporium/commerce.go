package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/emporiumhq/emporium/edge"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/gen/emporium/payment/v1/paymentv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/blob"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/svc/order"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/payment/provider"
	"github.com/emporiumhq/emporium/svc/shipping"
)

// demoTaxRules are dev's sales-tax rates, to show tax in the demo shop.
const demoTaxRules = "US-CA=7.25,US-NY=8.875,US-TX=6.25,US-WA=6.5,CA=5,GB=20,DE=19,FR=20"

// commerceSettings configure the order, payment and shipping services.
type commerceSettings struct {
	tax           order.TaxRules
	paymentWindow time.Duration
	shippingRates string
	provider      string
	stripeKey     string
	stripeSecret  string
	stripeURL     string
	jobPoll       time.Duration
	crashAt       string

	shipFrom       string        // protojson PostalAddress
	labelDir       string        // where labels are kept; "" = the mode's default
	trackInterval  time.Duration // how often carriers are asked about parcels
	carrierWebhook string        // secret of carriers' tracking pushes
	carrierHookURL string        // where carriers reach the shop, for push subscriptions
	carriers       carrierSettings
	getenv         func(string) string // for the label store's S3 credentials
}

// demoShipFrom is the default ship-from address: fine for dev, to be set
// for a real shop.
const demoShipFrom = `{"name":"Emporium Demo Warehouse","line1":"500 Dock Rd","city":"Oakland","region":"CA","postalCode":"94607","country":"US"}`

// taxFlag is --tax-rules.
type taxFlag struct{ rules *order.TaxRules }

func (f taxFlag) String() string {
	if f.rules == nil {
		return ""
	}
	return f.rules.String()
}

func (f taxFlag) Set(s string) error {
	r, err := order.ParseTaxRules(s)
	if err != nil {
		return err
	}
	*f.rules = r
	return nil
}

// register adds the commerce flags; taxDefault is the --tax-rules default.
func (c *commerceSettings) register(fs *flag.FlagSet, taxDefault string) {
	tax, err := order.ParseTaxRules(taxDefault)
	if err != nil {
		panic(fmt.Sprintf("default tax rules: %v", err)) // a constant in this package
	}
	c.tax = tax
	fs.Var(taxFlag{&c.tax}, "tax-rules", "order: sales tax per destination as COUNTRY[-REGION]=percent, e.g. US-CA=7.25,DE=19 (region wins over country; goods after discounts are taxed)")
	fs.DurationVar(&c.paymentWindow, "payment-window", order.DefaultPaymentWindow, "order: how long a checkout holds stock for its payment before the order is canceled (at most 50m)")
	fs.StringVar(&c.shippingRates, "shipping-rates", "", "shipping: JSON rate table of the local carrier (weight brackets per zone); empty: the built-in table")
	fs.StringVar(&c.provider, "payment-provider", "simulator", "payment: simulator (local, test cards, no money moves) or stripe")
	fs.StringVar(&c.stripeKey, "stripe-secret-key", "", "payment: Stripe secret API key (sk_live_… or sk_test_…), for --payment-provider=stripe")
	fs.StringVar(&c.stripeSecret, "stripe-webhook-secret", "", "payment: signing secret of the Stripe webhook endpoint (whsec_…) that posts to /webhooks/payments")
	fs.StringVar(&c.stripeURL, "stripe-api-url", "", "payment: Stripe API base URL; empty: Stripe's (set it to a stripe-mock to test)")
	fs.StringVar(&c.shipFrom, "ship-from", demoShipFrom, "shipping: the address parcels ship from, printed on labels, as JSON (name, line1, city, region, postalCode, country, phone)")
	fs.StringVar(&c.labelDir, "label-dir", "", "shipping: where bought carrier labels are kept: a directory or s3://BUCKET/PREFIX?region=…; empty: labels under the data directory")
	fs.DurationVar(&c.trackInterval, "track-interval", 5*time.Minute, "shipping: how often to ask carriers where parcels on their way are")
	fs.StringVar(&c.carrierWebhook, "carrier-webhook-secret", "", "shipping: HMAC secret of carrier tracking pushes to /webhooks/carriers/{carrier} (UPS Track Alert: the credential its pushes carry); empty refuses pushes")
	fs.StringVar(&c.carrierHookURL, "carrier-webhook-url", "", "shipping: where carriers reach this shop from the internet, e.g. https://shop.example.com; with --carrier-webhook-secret, UPS parcels are subscribed to Track Alert pushes; empty: tracking is polled only")
	c.carriers.register(fs)
	fs.DurationVar(&c.jobPoll, "job-poll", 250*time.Millisecond, "order, payment, shipping, notification, user: how often to look for background jobs other processes queued")
	fs.StringVar(&c.crashAt, "crash-at", "", "testing only: end the process at this checkout step (e.g. checkout.reserved) to prove crash safety; never in production")
}

// peers reach the other services: in this process when they run here, else
// at their --upstream addresses. Calls carry the internal credential.
type peers struct {
	local     map[string]http.Handler // filled as services open; read at call time
	upstreams upstreams
	internal  connect.Interceptor
}

// client returns an HTTP client and base URL for the service group name.
func (p *peers) client(name string) (*http.Client, string, error) {
	if _, ok := p.local[name]; ok {
		return serve.HandlerClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.local[name].ServeHTTP(w, r)
		})), "http://" + name, nil
	}
	targets := p.upstreams[name]
	if len(targets) == 0 {
		return nil, "", fmt.Errorf("no address for the %s service: pass --upstream %s=http://host:port, or run it in this process", name, name)
	}
	return edge.UpstreamClient(targets), "http://" + name, nil
}

// later is p.client for a service that may open after the caller: the
// check happens on the first call.
func (p *peers) later(name string) (*http.Client, string) {
	return &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		c, _, err := p.client(name)
		if err != nil {
			return nil, err
		}
		return c.Transport.RoundTrip(r)
	})}, "http://" + name
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// assembleCommerce opens the shipping, payment and order services this
// process runs.
func assembleCommerce(ctx context.Context, log *slog.Logger, s *settings, p plan, st *stack, pr *peers, opts []connect.HandlerOption) error {
	if p.shipping {
		if err := openShipping(ctx, log, s, p, st, pr, opts); err != nil {
			return err
		}
	}
	if p.payment {
		if err := openPayment(ctx, log, s, p, st, pr, opts); err != nil {
			return err
		}
	}
	if p.order {
		if err := openOrder(ctx, log, s, p, st, pr, opts); err != nil {
			return err
		}
	}
	return nil
}

func openShipping(ctx context.Context, log *slog.Logger, s *settings, p plan, st *stack, pr *peers, opts []connect.HandlerOption) error {
	c := &s.commerce
	rates := shipping.DefaultRateTable()
	if c.shippingRates != "" {
		var err error
		if rates, err = shipping.LoadRateTable(c.shippingRates); err != nil {
			return err
		}
	}
	from := new(typev1.PostalAddress)
	if err := protojson.Unmarshal([]byte(c.shipFrom), from); err != nil {
		return fmt.Errorf("--ship-from: %w", err)
	}
	if c.shipFrom == demoShipFrom && !p.landing {
		log.Warn("labels show the demo ship-from address: set --ship-from")
	}
	carriers, err := c.carriers.open(rates, from, s.currency)
	if err != nil {
		return err
	}
	labels, err := blob.Open(c.labelDir, c.getenv)
	if err != nil {
		return fmt.Errorf("--label-dir: %w", err)
	}
	st.closers = append(st.closers, func() { labels.Close() })
	d, err := openDB(ctx, log, p.shippingDB, "shipping", shipping.Migrate, s.migrate)
	if err != nil {
		return err
	}
	st.closers = append(st.closers, func() { d.Close() })
	orderHC, orderURL := pr.later("order")
	svc, err := shipping.New(shipping.Deps{
		// The local carrier quotes from rates, so the table is not a
		// carrier of its own here.
		Carriers: carriers, Currency: s.currency, Log: log, DB: d,
		Orders:        orderv1connect.NewOrderServiceClient(orderHC, orderURL, connect.WithInterceptors(pr.internal)),
		Notifier:      notificationClient(s, p, pr), // nil: no shipment notifications
		Labels:        labels,
		From:          from,
		TrackInterval: c.trackInterval,
		WebhookSecret: c.carrierWebhook,
		WebhookURL:    c.carrierHookURL,
		JobPoll:       c.jobPoll,
	})
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	st.closers = append(st.closers, func() { stopJobs(log, "shipping", svc.Stop) })
	mux := http.NewServeMux()
	svc.Mount(mux, opts...)
	pr.local["shipping"] = mux
	return nil
}

func openPayment(ctx context.Context, log *slog.Logger, s *settings, p plan, st *stack, pr *peers, opts []connect.HandlerOption) error {
	c := &s.commerce
	d, err := openDB(ctx, log, p.paymentDB, "payment", payment.Migrate, s.migrate)
	if err != nil {
		return err
	}
	st.closers = append(st.closers, func() { d.Close() })
	var (
		prov  provider.Provider
		sim   *provider.Simulator
		svc   *payment.Service
		extra = http.NewServeMux()
	)
	switch c.provider {
	case "simulator":
		sim, err = provider.NewSimulator(provider.SimulatorConfig{
			WebhookSecret: randomHex(24), // its webhooks stay in this process
			ActionURL:     s.publicURL + payment.SimulatorActionPath,
			// Its webhooks are delivered in-process, as Stripe's would
			// arrive: signed, checked, deduplicated, and on their own, not
			// inside the call that caused them (the simulator emits under a
			// lock that keeps events in order).
			OnEvent: func(payload []byte, sig string) {
				go func() {
					if err := svc.ReceiveWebhook(context.WithoutCancel(ctx), payload, sig); err != nil {
						log.Warn("simulated payment webhook not applied", "err", err)
					}
				}()
			},
		})
		if err != nil {
			return err
		}
		st.closers = append(st.closers, func() { sim.Close() })
		prov = sim
		extra.Handle(payment.SimulatorActionPath, payment.SimulatorActionPage(sim))
	case "stripe":
		prov, err = provider.NewStripe(provider.StripeConfig{
			APIKey: c.stripeKey, WebhookSecret: c.stripeSecret, BaseURL: c.stripeURL,
			ReturnURL: s.publicURL,
		})
		if err != nil {
			return fmt.Errorf("--payment-provider=stripe: %w (set --stripe-secret-key and --stripe-webhook-secret)", err)
		}
	default:
		return fmt.Errorf("--payment-provider %q: want simulator or stripe", c.provider)
	}
	hc, base := pr.later("order")
	orders := orderv1connect.NewOrderServiceClient(hc, base, connect.WithInterceptors(pr.internal))
	svc, err = payment.New(payment.Deps{
		DB: d, Provider: prov, ProviderName: c.provider, Outcomes: orderOutcomes{orders},
		Currency: s.currency, Log: log, JobPoll: c.jobPoll,
	})
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	st.closers = append(st.closers, func() { stopJobs(log, "payment", svc.Stop) })
	st.payments = svc
	mux := http.NewServeMux()
	svc.Mount(mux, opts...)
	mux.Handle("/payment-simulator/", extra)
	pr.local["payment"] = mux
	return nil
}

// orderOutcomes tells the order service about payments.
type orderOutcomes struct {
	orders orderv1connect.OrderServiceClient
}

func (o orderOutcomes) ApplyPaymentEvent(ctx context.Context, ev *paymentv1.PaymentEvent) error {
	_, err := o.orders.ApplyPaymentEvent(ctx, &orderv1.ApplyPaymentEventRequest{Event: ev})
	return err
}

func openOrder(ctx context.Context, log *slog.Logger, s *settings, p plan, st *stack, pr *peers, opts []connect.HandlerOption) error {
	c := &s.commerce
	d, err := openDB(ctx, log, p.orderDB, "order", order.Migrate, s.migrate)
	if err != nil {
		return err
	}
	st.closers = append(st.closers, func() { d.Close() })
	auth := connect.WithInterceptors(pr.internal)
	productHC, productURL := pr.later("product")
	shippingHC, shippingURL := pr.later("shipping")
	paymentHC, paymentURL := pr.later("payment")
	deps := order.Deps{
		DB:            d,
		Catalog:       productv1connect.NewProductServiceClient(productHC, productURL, auth),
		Inventory:     productv1connect.NewInventoryServiceClient(productHC, productURL, auth),
		Shipping:      shippingv1connect.NewShippingServiceClient(shippingHC, shippingURL, auth),
		Payments:      paymentv1connect.NewPaymentServiceClient(paymentHC, paymentURL, auth),
		Notifications: notificationClient(s, p, pr),
		Currency:      s.currency,
		Tax:           c.tax,
		PaymentWindow: c.paymentWindow,
		Log:           log,
		JobPoll:       c.jobPoll,
	}
	if c.crashAt != "" {
		deps.CrashPoint = func(step string) {
			if step == c.crashAt {
				log.Error("crashing on purpose (--crash-at)", "step", step)
				os.Exit(75)
			}
		}
	}
	svc, err := order.New(deps)
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	st.closers = append(st.closers, func() { stopJobs(log, "order", svc.Stop) })
	st.orders = svc
	mux := http.NewServeMux()
	svc.Mount(mux, opts...)
	pr.local["order"] = mux
	return nil
}

// stopJobs lets running jobs finish, for up to 10 seconds.
func stopJobs(log *slog.Logger, name string, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		log.Warn("stopping background jobs", "service", name, "err", err)
	}
}
