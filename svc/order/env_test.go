package order_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/gen/emporium/payment/v1/paymentv1connect"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/search/bleve"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/svc/order"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/payment/provider"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
	"github.com/emporiumhq/emporium/svc/shipping"
)

const (
	staffToken   = "staff-token"
	serviceToken = "service-token"
)

// customers are the shoppers tests sign in as: token "cust-N" is user
// "user-N".
const customers = 250

// env is the commerce core as it runs in production, on one loopback
// server: the real product, shipping, payment and order services, each on
// its own database of one engine, calling each other over HTTP with the
// internal credential. Only the payment provider is a stand-in: the local
// simulator, which speaks Stripe's states and signed webhooks.
type env struct {
	url       string
	orders    *order.Service
	sim       *provider.Simulator
	staff     clients
	anon      clients
	inventory productv1connect.InventoryServiceClient // as staff
	// internalInv is the inventory as another service calls it.
	internalInv productv1connect.InventoryServiceClient
	catalog     productv1connect.ProductServiceClient // as staff
	products    *product.Service
}

// clients are the order API as one caller sees it.
type clients struct {
	cart     orderv1connect.CartServiceClient
	checkout orderv1connect.CheckoutServiceClient
	orders   orderv1connect.OrderServiceClient
	discount orderv1connect.DiscountServiceClient
}

type envOptions struct {
	paymentWindow time.Duration
	tax           string
}

func newEnv(t testing.TB, engine string, opt envOptions) *env {
	t.Helper()
	ctx := context.Background()
	log, err := logx.New(testLog{t}, "warn")
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]*authz.Principal{
		staffToken:   {Subject: "staff-1", Roles: []string{authz.RoleStaff}},
		serviceToken: {Subject: "emporium-internal", Roles: []string{authz.RoleService}},
	}
	for i := range customers {
		tokens[fmt.Sprintf("cust-%d", i)] = &authz.Principal{Subject: fmt.Sprintf("user-%d", i), Roles: []string{authz.RoleCustomer}}
	}
	opts, err := serve.HandlerOptions(log, authz.NewStaticTokens(tokens))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	url := servetest.Start(t, mux)
	internal := servetest.Bearer(serviceToken)
	hc := http.DefaultClient

	// product
	pdb := dbtest.Open(t, engine, "product", product.Migrations)
	idx, err := bleve.Open(t.TempDir() + "/products.bleve")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	prod, err := product.New(product.Deps{DB: pdb, Index: idx, Currency: "USD", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	prod.Mount(mux, opts...)

	// shipping
	ship, err := shipping.New(shipping.Deps{Rates: shipping.DefaultRateTable(), Currency: "USD", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ship.Mount(mux, opts...)

	// payment
	paydb := dbtest.Open(t, engine, "payment", payment.Migrations)
	if _, err := payment.Migrate(ctx, paydb); err != nil {
		t.Fatal(err)
	}
	var paySvc *payment.Service
	sim, err := provider.NewSimulator(provider.SimulatorConfig{
		WebhookSecret: "whsec_test",
		ActionURL:     url + payment.SimulatorActionPath,
		OnEvent: func(payload []byte, sig string) {
			go func() { _ = paySvc.ReceiveWebhook(context.Background(), payload, sig) }()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	orderClient := orderv1connect.NewOrderServiceClient(hc, url, internal)
	paySvc, err = payment.New(payment.Deps{
		DB: paydb, Provider: sim, ProviderName: "simulator", Outcomes: outcomes{orderClient},
		Currency: "USD", Log: log, JobPoll: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	paySvc.Mount(mux, opts...)
	mux.Handle(payment.SimulatorActionPath, payment.SimulatorActionPage(sim))

	// order
	odb := dbtest.Open(t, engine, "order", order.Migrations)
	if _, err := order.Migrate(ctx, odb); err != nil {
		t.Fatal(err)
	}
	tax := order.TaxRules(nil)
	if opt.tax != "" {
		if tax, err = order.ParseTaxRules(opt.tax); err != nil {
			t.Fatal(err)
		}
	}
	ord, err := order.New(order.Deps{
		DB:            odb,
		Catalog:       productv1connect.NewProductServiceClient(hc, url, internal),
		Inventory:     productv1connect.NewInventoryServiceClient(hc, url, internal),
		Shipping:      shippingv1connect.NewShippingServiceClient(hc, url, internal),
		Payments:      paymentv1connect.NewPaymentServiceClient(hc, url, internal),
		Currency:      "USD",
		Tax:           tax,
		PaymentWindow: opt.paymentWindow,
		Log:           log,
		JobPoll:       50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ord.Mount(mux, opts...)

	for _, svc := range []interface {
		Start(context.Context) error
		Stop(context.Context) error
	}{paySvc, ord} {
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = svc.Stop(ctx)
		})
	}
	e := &env{url: url, orders: ord, sim: sim, products: prod}
	e.staff = e.as(servetest.Bearer(staffToken))
	e.anon = e.as()
	e.inventory = productv1connect.NewInventoryServiceClient(hc, url, servetest.Bearer(staffToken))
	e.catalog = productv1connect.NewProductServiceClient(hc, url, servetest.Bearer(staffToken))
	e.internalInv = productv1connect.NewInventoryServiceClient(hc, url, internal)
	return e
}

// outcomes hands payment events to the order service, as cmd/emporium does.
type outcomes struct {
	orders orderv1connect.OrderServiceClient
}

func (o outcomes) ApplyPaymentEvent(ctx context.Context, ev *paymentv1.PaymentEvent) error {
	_, err := o.orders.ApplyPaymentEvent(ctx, &orderv1.ApplyPaymentEventRequest{Event: ev})
	return err
}

func (e *env) as(opts ...connect.ClientOption) clients {
	return clients{
		cart:     orderv1connect.NewCartServiceClient(http.DefaultClient, e.url, opts...),
		checkout: orderv1connect.NewCheckoutServiceClient(http.DefaultClient, e.url, opts...),
		orders:   orderv1connect.NewOrderServiceClient(http.DefaultClient, e.url, opts...),
		discount: orderv1connect.NewDiscountServiceClient(http.DefaultClient, e.url, opts...),
	}
}

// customer n's clients.
func (e *env) customer(n int) clients { return e.as(servetest.Bearer(fmt.Sprintf("cust-%d", n))) }

func usd(amount int64) *typev1.Money { return &typev1.Money{Amount: amount, Currency: "USD"} }

// stockItem is one product with one SKU for the tests' catalog.
type stockItem struct {
	sku   string
	price int64
	stock int64
	grams int64
}

// seedCatalog creates one product per item.
func (e *env) seedCatalog(t testing.TB, items ...stockItem) {
	t.Helper()
	c := seed.Catalog{Categories: []seed.Category{{Slug: "goods", Name: "Goods"}}}
	for _, it := range items {
		c.Products = append(c.Products, &productv1.CreateProductRequest{
			Slug: "p-" + strings.ToLower(it.sku), Title: "Product " + it.sku, Category: "goods",
			Variants: []*productv1.Variant{{Sku: it.sku, Title: "Standard", Price: usd(it.price), Stock: it.stock, WeightGrams: it.grams}},
		})
	}
	if n, err := e.products.Seed(context.Background(), c, nil); err != nil || n != len(items) {
		t.Fatalf("seed = %d, %v", n, err)
	}
}

func (e *env) stock(t *testing.T, sku string) int64 {
	t.Helper()
	res, err := e.inventory.GetStock(context.Background(), &productv1.GetStockRequest{Skus: []string{sku}})
	if err != nil {
		t.Fatal(err)
	}
	return res.GetLevels()[0].GetOnHand()
}

var home = &typev1.PostalAddress{Name: "Ada Lovelace", Line1: "1 Main St", City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US"}

// checkout checks out customer c's cart to home with standard shipping.
func checkout(ctx context.Context, c clients, key string) (*orderv1.CheckoutResponse, error) {
	res, err := c.checkout.Checkout(ctx, &orderv1.CheckoutRequest{ShippingAddress: home, ShippingRateId: "local:standard", IdempotencyKey: key})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// eventually polls f until it returns nil or the deadline passes.
func eventually(t *testing.T, what string, f func() error) {
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

func forEachEngine(t *testing.T, opt envOptions, f func(t *testing.T, e *env)) {
	t.Helper()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f(t, newEnv(t, engine, opt))
		})
	}
}

func code(err error) connect.Code { return connect.CodeOf(err) }

func destOf(a *typev1.PostalAddress) *typev1.Destination {
	return &typev1.Destination{Country: a.GetCountry(), Region: a.GetRegion(), PostalCode: a.GetPostalCode()}
}

// testLog shows the services' warnings and errors in the test's log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
