// Package testworld builds any set of real Emporium services for tests
// that cross services, from the same modules cmd/emporium runs: each
// service on its own database of one engine (SQLite or PostgreSQL),
// mounted on one loopback server with the real interceptors, calling its
// peers over HTTP with the internal credential, with its real background
// jobs. The stand-ins are for systems outside our control only: the
// payment simulator, the local carrier, the dev mailbox (and whatever a
// test puts in through an Adjust hook, such as an SMTP server or a
// scripted carrier).
//
// It is the one place a service's tests may reach other services from: the
// boundary test (internal/deptest) forbids a service's tests to import
// another service, except through this package.
package testworld

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"github.com/emporiumhq/emporium/internal/platform/token"
	"github.com/emporiumhq/emporium/svc/notification"
	"github.com/emporiumhq/emporium/svc/order"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/payment/provider/stripemocktest"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/user"
)

// Services names every service, for Options.Services.
var Services = []string{"product", "user", "notification", "shipping", "payment", "order"}

// Commerce are the services a checkout crosses.
var Commerce = []string{"product", "shipping", "payment", "order"}

// Options choose a world's services and change them from their defaults.
type Options struct {
	// Services to run (default Services), with the peers each needs;
	// optional peers (notification) may be left out.
	Services []string
	// Flags are set on the modules as on the command line, e.g.
	// {"tax-rules": "US-CA=7.25", "payment-window": "3s"}.
	Flags map[string]string
	// Each hook, when set, changes its service's Deps after the module has
	// filled them (stand-in carriers and channels, clocks, crash hooks).
	Product      func(w *World, d *product.Deps)
	User         func(w *World, d *user.Deps)
	Notification func(w *World, d *notification.Deps)
	Shipping     func(w *World, d *shipping.Deps)
	Payment      func(w *World, d *payment.Deps)
	Order        func(w *World, d *order.Deps)
	// UserLinksByMail makes the user service send its verification and
	// reset links to the world's Mailbox, as it does where no notification
	// service runs, instead of through the notification service.
	UserLinksByMail bool
	// Auth authenticates callers; default testkit.Tokens. Tests of the
	// edge set the verifier of real access tokens here.
	Auth authz.Authenticator
	// LogLevel of the services' logs in the test's log (default "warn").
	LogLevel string
	// StripeURL, when set, puts the payment service on Stripe's adapter,
	// with test keys, against the stripe-mock there (see StartStripeMock)
	// instead of the simulator.
	StripeURL string
	// Revocations are the access-token revocations the services write
	// (the user service, on a password change); tests of the edge share
	// them with its verifier. Default none.
	Revocations token.Revocations
}

// Stripe's test keys a world on stripe-mock is configured with.
const (
	StripePublishableKey = "pk_test_testworld"
	StripeWebhookSecret  = "whsec_testworld"
)

// StartStripeMock runs stripe-mock for the test's lifetime and returns its
// URL, for Options.StripeURL; see stripemocktest.Start.
func StartStripeMock(t testing.TB) string { return stripemocktest.Start(t) }

// World is a running set of services on one loopback server.
type World struct {
	URL     string
	Log     *slog.Logger
	Mailbox *mailbox.Mailbox
	// DB holds each service's database by name, for assertions.
	DB map[string]*bun.DB

	Product      *product.Module
	User         *user.Module
	Notification *notification.Module
	Shipping     *shipping.Module
	Payment      *payment.Module
	Order        *order.Module
}

// migrations are the SQL files of each service, from which dbtest makes its
// PostgreSQL templates; each module's Migrate then adds what else it keeps
// (River's tables).
var migrations = map[string]fs.FS{
	"product": product.Migrations, "user": user.Migrations, "notification": notification.Migrations,
	"shipping": shipping.Migrations, "payment": payment.Migrations, "order": order.Migrations,
}

// New starts a world on engine (one of dbtest.Engines); it stops when the
// test ends.
func New(t testing.TB, engine string, opt Options) *World {
	t.Helper()
	ctx := context.Background()
	if opt.LogLevel == "" {
		opt.LogLevel = "warn"
	}
	if opt.Services == nil {
		opt.Services = Services
	}
	w := &World{
		Log: testkit.Logger(t, opt.LogLevel), Mailbox: mailbox.New(), DB: map[string]*bun.DB{},
		Product: &product.Module{}, User: &user.Module{}, Notification: &notification.Module{},
		Shipping: &shipping.Module{}, Payment: &payment.Module{}, Order: &order.Module{},
	}
	w.Product.Adjust = hook(w, opt.Product)
	w.User.Adjust = hook(w, opt.User)
	if opt.UserLinksByMail {
		adjust := w.User.Adjust
		w.User.Adjust = func(d *user.Deps) {
			d.Mail, d.Notifications = w.Mailbox, nil
			if adjust != nil {
				adjust(d)
			}
		}
	}
	w.Notification.Adjust = hook(w, opt.Notification)
	w.Shipping.Adjust = hook(w, opt.Shipping)
	w.Payment.Adjust = hook(w, opt.Payment)
	w.Order.Adjust = hook(w, opt.Order)
	all := []module.Module{w.Product, w.User, w.Notification, w.Shipping, w.Payment, w.Order}

	fs := flag.NewFlagSet("testworld", flag.ContinueOnError)
	for _, m := range all {
		m.Flags(fs)
	}
	flags := map[string]string{
		"ship-from":      `{"name":"Emporium Warehouse","line1":"500 Dock Rd","city":"Oakland","region":"CA","postalCode":"94607","country":"US"}`,
		"track-interval": "1h", // tests poll by hand
	}
	if opt.StripeURL != "" {
		flags["payment-provider"] = "stripe"
		flags["stripe-api-url"] = opt.StripeURL
		flags["stripe-secret-key"] = "sk_test_testworld"
		flags["stripe-webhook-secret"] = StripeWebhookSecret
		flags["stripe-publishable-key"] = StripePublishableKey
	}
	for k, v := range opt.Flags {
		flags[k] = v
	}
	for k, v := range flags {
		if err := fs.Set(k, v); err != nil {
			t.Fatalf("testworld: --%s=%s: %v", k, v, err)
		}
	}

	var auth authz.Authenticator = testkit.Tokens{}
	if opt.Auth != nil {
		auth = opt.Auth
	}
	opts, err := serve.HandlerOptions(w.Log, auth)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.URL = servetest.Start(t, mux)
	internal := servetest.Bearer(testkit.ServiceToken)
	var running []module.Module
	for _, m := range all {
		if slices.Contains(opt.Services, m.Name()) {
			running = append(running, m)
		}
	}
	dial := func(name string) (connect.HTTPClient, string, []connect.ClientOption, bool) {
		for _, m := range running {
			if m.Name() == name {
				return http.DefaultClient, w.URL, []connect.ClientOption{internal}, true
			}
		}
		return nil, "", nil, false
	}
	// Each service is mounted before any opens, so that jobs started with
	// the group reach every service of the world over HTTP.
	handlers := map[string]http.Handler{}
	for _, m := range running {
		for _, prefix := range module.RoutesOf(m).Prefixes() {
			mux.HandleFunc(prefix, func(rw http.ResponseWriter, r *http.Request) { handlers[m.Name()].ServeHTTP(rw, r) })
		}
	}
	g, err := module.OpenGroup(ctx, running, module.GroupConfig{
		DB: func(ctx context.Context, m module.Module) (*bun.DB, error) {
			d := dbtest.Open(t, engine, m.Name(), migrations[m.Name()])
			if _, err := m.Migrate(ctx, d); err != nil {
				return nil, fmt.Errorf("migrate %s: %w", m.Name(), err)
			}
			w.DB[m.Name()] = d
			return d, nil
		},
		Env: module.Env{
			Log: w.Log, Handler: opts, Dial: dial, Currency: "USD", PublicURL: w.URL,
			JobPoll: 50 * time.Millisecond, DataDir: t.TempDir(), Mailbox: w.Mailbox, DevMailbox: true,
			Getenv: func(string) string { return "" }, Revocations: opt.Revocations,
		},
		Handlers: handlers,
	})
	if err != nil {
		t.Fatalf("testworld: %v", err)
	}
	t.Cleanup(g.Close)
	return w
}

// hook adapts an Options hook to a module's Adjust.
func hook[D any](w *World, f func(*World, *D)) func(*D) {
	if f == nil {
		return nil
	}
	return func(d *D) { f(w, d) }
}

// As is a client option that signs calls in with a test token
// (testkit.StaffToken, testkit.Customer(n), …).
func As(token string) connect.ClientOption { return servetest.Bearer(token) }

// Eventually polls f until it returns nil, failing the test with f's last
// error after 20 s.
func Eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v after 20s", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
