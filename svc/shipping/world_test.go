package shipping_test

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/uptrace/bun"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/gen/emporium/payment/v1/paymentv1connect"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/blob"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
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
	"github.com/emporiumhq/emporium/svc/shipping/ups"
	"github.com/emporiumhq/emporium/svc/shipping/ups/upstest"
)

const (
	staffToken    = "staff-token"
	serviceToken  = "service-token"
	webhookSecret = "whsec_carrier_test"
	carrierName   = "parcelco"
	rateID        = carrierName + ":ground"
)

// world is the commerce core as it runs in production, on one loopback
// server: the real product, payment, order and shipping services, each on
// its own database of one engine, calling each other over HTTP with the
// internal credential. The stand-ins are for systems outside our control:
// the payment simulator and a scripted carrier (whose failures tests can
// choose), with labels in memory beside it; worldOptions.local uses the
// real local carrier and a directory store instead. Shipping runs on a
// clock tests move.
type world struct {
	url      string
	ship     *shipping.Service
	shipDB   *bun.DB
	carrier  *scriptedCarrier
	labels   *memLabels
	clock    *clocktest.Clock
	products *product.Service
	ups      *upstest.Server // with worldOptions.ups
	// orderReads gates the shipping service's reads of orders.
	orderReads *orderReads

	staff      shippingv1connect.ShippingServiceClient
	anon       shippingv1connect.ShippingServiceClient
	staffOrder orderv1connect.OrderServiceClient
}

var shop = &typev1.PostalAddress{Name: "Emporium Warehouse", Line1: "500 Dock Rd", City: "Oakland", Region: "CA", PostalCode: "94607", Country: "US"}

// worldOptions change a world from its defaults.
type worldOptions struct {
	trackInterval time.Duration // default an hour: tests poll by hand
	// local ships with the real local carrier on the test's clock and
	// keeps labels in a blob.Dir, instead of the scripted carrier and
	// labels in memory.
	local bool
	// ups adds UPS, against its fake, beside the scripted carrier, with
	// Track Alert pushes to this world's webhook.
	ups bool
}

func newWorld(t *testing.T, engine string, opt worldOptions) *world {
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
	for i := range 10 {
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

	clock := clocktest.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	carrier := newScriptedCarrier(carrierName, clock)
	labels := &memLabels{}
	deps := shipping.Deps{Rates: shipping.DefaultRateTable(), Carriers: []shipping.LabelCarrier{carrier}, Labels: labels}
	if opt.local {
		local, err := shipping.NewLocalCarrier(shipping.LocalConfig{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		dir, err := blob.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dir.Close() })
		deps = shipping.Deps{Carriers: []shipping.LabelCarrier{local}, Labels: dir}
	}
	var fakeUPS *upstest.Server
	if opt.ups {
		fakeUPS = upstest.Start(t, upstest.Options{Now: clock.Now})
		c, err := ups.New(ups.Config{ClientID: fakeUPS.ClientID, ClientSecret: fakeUPS.ClientSecret, AccountNumber: fakeUPS.Account,
			Shipper: shop, Currency: "USD", BaseURL: fakeUPS.URL, Now: clock.Now, Backoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		deps.Carriers = append(deps.Carriers, c)
		deps.WebhookURL = url
	}
	reads := &orderReads{}
	sdb := dbtest.Open(t, engine, "shipping", shipping.Migrations)
	if _, err := shipping.Migrate(ctx, sdb); err != nil {
		t.Fatal(err)
	}
	ship, err := shipping.New(shipping.Deps{
		Rates: deps.Rates, Currency: "USD", Log: log,
		Carriers: deps.Carriers, DB: sdb,
		Orders: orderv1connect.NewOrderServiceClient(&http.Client{Transport: reads}, url, internal),
		Labels: deps.Labels, From: shop,
		TrackingURLs:  map[string]string{carrierName: "https://parcelco.example/track/%s"},
		TrackInterval: cmp.Or(opt.trackInterval, time.Hour),
		WebhookSecret: webhookSecret, WebhookURL: deps.WebhookURL, JobPoll: 50 * time.Millisecond, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ship.Mount(mux, opts...)

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
	paySvc, err = payment.New(payment.Deps{
		DB: paydb, Provider: sim, ProviderName: "simulator",
		Outcomes: outcomes{orderv1connect.NewOrderServiceClient(hc, url, internal)},
		Currency: "USD", Log: log, JobPoll: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	paySvc.Mount(mux, opts...)

	odb := dbtest.Open(t, engine, "order", order.Migrations)
	if _, err := order.Migrate(ctx, odb); err != nil {
		t.Fatal(err)
	}
	ord, err := order.New(order.Deps{
		DB:        odb,
		Catalog:   productv1connect.NewProductServiceClient(hc, url, internal),
		Inventory: productv1connect.NewInventoryServiceClient(hc, url, internal),
		Shipping:  shippingv1connect.NewShippingServiceClient(hc, url, internal),
		Payments:  paymentv1connect.NewPaymentServiceClient(hc, url, internal),
		Currency:  "USD", Log: log, JobPoll: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ord.Mount(mux, opts...)

	for _, svc := range []interface {
		Start(context.Context) error
		Stop(context.Context) error
	}{paySvc, ord, ship} {
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = svc.Stop(ctx)
		})
	}
	return &world{
		url: url, ship: ship, shipDB: sdb, carrier: carrier, labels: labels, clock: clock, products: prod, ups: fakeUPS, orderReads: reads,
		staff:      shippingv1connect.NewShippingServiceClient(hc, url, servetest.Bearer(staffToken)),
		anon:       shippingv1connect.NewShippingServiceClient(hc, url),
		staffOrder: orderv1connect.NewOrderServiceClient(hc, url, servetest.Bearer(staffToken)),
	}
}

// orderReads is the transport of the shipping service's order client. It
// passes requests on, except that hold can stop the next GetOrderInternal
// call, so tests can interleave CreateShipment calls for certain.
type orderReads struct {
	mu   sync.Mutex
	held *heldRead
}

type heldRead struct{ arrived, release chan struct{} }

// hold stops the next GetOrderInternal call: arrived is closed when it is
// made, and it goes on when release is closed.
func (g *orderReads) hold() (arrived, release chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = &heldRead{arrived: make(chan struct{}), release: make(chan struct{})}
	return g.held.arrived, g.held.release
}

func (g *orderReads) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	h := g.held
	if h != nil && strings.HasSuffix(r.URL.Path, "/GetOrderInternal") {
		g.held = nil
	} else {
		h = nil
	}
	g.mu.Unlock()
	if h != nil {
		close(h.arrived)
		select {
		case <-h.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// outcomes hands payment events to the order service, as cmd/emporium does.
type outcomes struct {
	orders orderv1connect.OrderServiceClient
}

func (o outcomes) ApplyPaymentEvent(ctx context.Context, ev *paymentv1.PaymentEvent) error {
	_, err := o.orders.ApplyPaymentEvent(ctx, &orderv1.ApplyPaymentEventRequest{Event: ev})
	return err
}

type shippingServiceClient = shippingv1connect.ShippingServiceClient

// shopper n's shipping client.
func (w *world) shopper(n int) shippingv1connect.ShippingServiceClient {
	return shippingv1connect.NewShippingServiceClient(http.DefaultClient, w.url, servetest.Bearer(fmt.Sprintf("cust-%d", n)))
}

var home = &typev1.PostalAddress{Name: "Ada Lovelace", Line1: "1 Main St", City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US", Phone: "+14155550100"}

// paidOrder has shopper n buy items (SKU → quantity; each SKU is stocked
// on first use) shipped to addr, pays, and waits until the order is paid.
func (w *world) paidOrder(t *testing.T, n int, addr *typev1.PostalAddress, items map[string]int64) *orderv1.Order {
	t.Helper()
	ctx := context.Background()
	opt := servetest.Bearer(fmt.Sprintf("cust-%d", n))
	cart := orderv1connect.NewCartServiceClient(http.DefaultClient, w.url, opt)
	checkout := orderv1connect.NewCheckoutServiceClient(http.DefaultClient, w.url, opt)
	var cat seed.Catalog
	cat.Categories = []seed.Category{{Slug: "goods", Name: "Goods"}}
	for sku := range items {
		cat.Products = append(cat.Products, &productv1.CreateProductRequest{
			Slug: "p-" + strings.ToLower(sku), Title: "Product " + sku, Category: "goods",
			Variants: []*productv1.Variant{{Sku: sku, Title: "Standard", Price: &typev1.Money{Amount: 1500, Currency: "USD"}, Stock: 1000, WeightGrams: 400}},
		})
	}
	if _, err := w.products.Seed(ctx, cat, nil); err != nil {
		t.Fatal(err)
	}
	for sku, q := range items {
		if _, err := cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: sku, Quantity: q}); err != nil {
			t.Fatal(err)
		}
	}
	key := fmt.Sprintf("order-%d-%d", n, time.Now().UnixNano())
	res, err := checkout.Checkout(ctx, &orderv1.CheckoutRequest{ShippingAddress: addr, ShippingRateId: "local:standard", IdempotencyKey: key})
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetOrder().GetId()
	if _, err := checkout.PayOrder(ctx, &orderv1.PayOrderRequest{OrderId: id, PaymentMethod: provider.TestCardSucceeds, IdempotencyKey: "pay-" + key}); err != nil {
		t.Fatal(err)
	}
	return w.waitOrder(t, id, orderv1.OrderStatus_ORDER_STATUS_PAID)
}

// waitOrder waits until order id has status want.
func (w *world) waitOrder(t *testing.T, id string, want orderv1.OrderStatus) *orderv1.Order {
	t.Helper()
	var o *orderv1.Order
	eventually(t, "order "+want.String(), func() error {
		res, err := w.staffOrder.GetOrder(context.Background(), &orderv1.GetOrderRequest{Id: id})
		if err != nil {
			return err
		}
		if o = res.GetOrder(); o.GetStatus() != want {
			return fmt.Errorf("status %s", o.GetStatus())
		}
		return nil
	})
	return o
}

// create asks, as staff, for a shipment of parcels (each a map SKU →
// quantity, 1 kg) under key.
func (w *world) create(ctx context.Context, orderID, key string, parcels ...map[string]int64) (*shippingv1.CreateShipmentResponse, error) {
	req := &shippingv1.CreateShipmentRequest{OrderId: orderID, RateId: rateID, IdempotencyKey: key}
	for _, p := range parcels {
		spec := &shippingv1.ParcelSpec{WeightGrams: 1000}
		for _, sku := range sortedKeys(p) {
			spec.Items = append(spec.Items, &shippingv1.ShipmentItem{Sku: sku, Quantity: p[sku]})
		}
		req.Parcels = append(req.Parcels, spec)
	}
	return w.staff.CreateShipment(ctx, req)
}

// shipmentRows counts the shipments recorded for an order.
func (w *world) shipmentRows(t *testing.T, orderID string) int64 {
	t.Helper()
	n, err := w.shipDB.NewSelect().Table("shipments").Where("order_id = ?", orderID).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// history is an order's status changes as "FROM→TO".
func history(o *orderv1.Order) []string {
	var out []string
	for _, h := range o.GetHistory() {
		out = append(out, strings.TrimPrefix(h.GetFrom().String(), "ORDER_STATUS_")+"→"+strings.TrimPrefix(h.GetTo().String(), "ORDER_STATUS_"))
	}
	return out
}

func sortedKeys(m map[string]int64) []string { return slices.Sorted(maps.Keys(m)) }

// eventually polls f until it returns nil or 20 s pass.
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

func forEachEngine(t *testing.T, f func(t *testing.T, w *world)) {
	t.Helper()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f(t, newWorld(t, engine, worldOptions{}))
		})
	}
}

func code(err error) connect.Code { return connect.CodeOf(err) }

// testLog shows the services' warnings and errors in the test's log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
