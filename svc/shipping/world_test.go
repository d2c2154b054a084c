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

	"github.com/uptrace/bun"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/blob"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"github.com/emporiumhq/emporium/internal/testworld"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/shipping/ups"
	"github.com/emporiumhq/emporium/svc/shipping/ups/upstest"
)

const (
	staffToken    = testkit.StaffToken
	serviceToken  = testkit.ServiceToken
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
	world   *testworld.World
	url     string
	ship    *shipping.Service
	shipDB  *bun.DB
	carrier *scriptedCarrier
	labels  *memLabels
	clock   *clocktest.Clock
	ups     *upstest.Server // with worldOptions.ups
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

func newWorld(t testing.TB, engine string, opt worldOptions) *world {
	t.Helper()
	clock := clocktest.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	w := &world{carrier: newScriptedCarrier(carrierName, clock), labels: &memLabels{}, clock: clock, orderReads: &orderReads{}}
	if opt.ups {
		w.ups = upstest.Start(t, upstest.Options{Now: clock.Now})
	}
	tw := testworld.New(t, engine, testworld.Options{
		Services: testworld.Commerce,
		Shipping: func(tw *testworld.World, d *shipping.Deps) {
			d.Rates, d.Carriers, d.Labels = shipping.DefaultRateTable(), []shipping.LabelCarrier{w.carrier}, w.labels
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
				d.Rates, d.Carriers, d.Labels = nil, []shipping.LabelCarrier{local}, dir
			}
			if opt.ups {
				c, err := ups.New(ups.Config{ClientID: w.ups.ClientID, ClientSecret: w.ups.ClientSecret, AccountNumber: w.ups.Account,
					Shipper: shop, Currency: "USD", BaseURL: w.ups.URL, Now: clock.Now, Backoff: time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				d.Carriers = append(d.Carriers, c)
				d.WebhookURL = tw.URL
			}
			d.Orders = orderv1connect.NewOrderServiceClient(&http.Client{Transport: w.orderReads}, tw.URL, testworld.As(serviceToken))
			d.From = shop
			d.TrackingURLs = map[string]string{carrierName: "https://parcelco.example/track/%s"}
			d.TrackInterval = cmp.Or(opt.trackInterval, time.Hour)
			d.WebhookSecret = webhookSecret
			d.Now = clock.Now
		},
	})
	hc := http.DefaultClient
	w.world, w.url, w.ship, w.shipDB = tw, tw.URL, tw.Shipping.Service(), tw.DB["shipping"]
	w.staff = shippingv1connect.NewShippingServiceClient(hc, w.url, testworld.As(staffToken))
	w.anon = shippingv1connect.NewShippingServiceClient(hc, w.url)
	w.staffOrder = orderv1connect.NewOrderServiceClient(hc, w.url, testworld.As(staffToken))
	return w
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

type shippingServiceClient = shippingv1connect.ShippingServiceClient

// shopper n's shipping client.
func (w *world) shopper(n int) shippingv1connect.ShippingServiceClient {
	return shippingv1connect.NewShippingServiceClient(http.DefaultClient, w.url, testworld.As(testkit.Customer(n)))
}

var home = &typev1.PostalAddress{Name: "Ada Lovelace", Line1: "1 Main St", City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US", Phone: "+14155550100"}

// paidOrder has shopper n buy items (SKU → quantity; each SKU is stocked
// on first use) shipped to addr, pays, and waits until the order is paid.
func (w *world) paidOrder(t testing.TB, n int, addr *typev1.PostalAddress, items map[string]int64) *orderv1.Order {
	t.Helper()
	ctx := context.Background()
	opt := testworld.As(testkit.Customer(n))
	cart := orderv1connect.NewCartServiceClient(http.DefaultClient, w.url, opt)
	checkout := orderv1connect.NewCheckoutServiceClient(http.DefaultClient, w.url, opt)
	for sku := range items {
		w.world.Seed(t, testworld.Item{SKU: sku, Price: 1500, Stock: 1000, Grams: 400})
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
	if _, err := checkout.PayOrder(ctx, &orderv1.PayOrderRequest{OrderId: id, PaymentMethod: testworld.CardSucceeds, IdempotencyKey: "pay-" + key}); err != nil {
		t.Fatal(err)
	}
	return w.waitOrder(t, id, orderv1.OrderStatus_ORDER_STATUS_PAID)
}

// waitOrder waits until order id has status want.
func (w *world) waitOrder(t testing.TB, id string, want orderv1.OrderStatus) *orderv1.Order {
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
func eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	testworld.Eventually(t, what, f)
}

func forEachEngine(t *testing.T, f func(t *testing.T, w *world)) {
	t.Helper()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) { f(t, newWorld(t, engine, worldOptions{})) })
}

var code = testkit.Code
