package order_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"github.com/emporiumhq/emporium/internal/testworld"
	"github.com/emporiumhq/emporium/svc/order"
)

const (
	staffToken   = testkit.StaffToken
	serviceToken = testkit.ServiceToken
)

// env is the commerce core as it runs in production, built by the shared
// test world: the real product, shipping, payment and order services, each
// on its own database of one engine, calling each other over HTTP with the
// internal credential. Only the payment provider is a stand-in: the local
// simulator, which speaks Stripe's states and signed webhooks.
type env struct {
	url       string
	orders    *order.Service
	staff     clients
	anon      clients
	inventory productv1connect.InventoryServiceClient // as staff
	// internalInv is the inventory as another service calls it.
	internalInv productv1connect.InventoryServiceClient
	catalog     productv1connect.ProductServiceClient // as staff
	world       *testworld.World
}

// clients are the order API as one caller sees it.
type clients struct {
	cart     orderv1connect.CartServiceClient
	checkout orderv1connect.CheckoutServiceClient
	orders   orderv1connect.OrderServiceClient
	discount orderv1connect.DiscountServiceClient
}

// customers are the shoppers benchmarks spread their carts over.
const customers = 250

type envOptions struct {
	paymentWindow time.Duration
	tax           string
	// stripeURL, when set, puts the payment service on Stripe's adapter,
	// talking to the stripe-mock there (testworld.StartStripeMock), instead
	// of the simulator.
	stripeURL string
}

func newEnv(t testing.TB, engine string, opt envOptions) *env {
	t.Helper()
	flags := map[string]string{}
	if opt.paymentWindow != 0 {
		flags["payment-window"] = opt.paymentWindow.String()
	}
	if opt.tax != "" {
		flags["tax-rules"] = opt.tax
	}
	w := testworld.New(t, engine, testworld.Options{Services: testworld.Commerce, Flags: flags, StripeURL: opt.stripeURL})
	hc, url, internal := http.DefaultClient, w.URL, testworld.As(serviceToken)
	e := &env{url: url, orders: w.Order.Service(), world: w}
	e.staff = e.as(testworld.As(staffToken))
	e.anon = e.as()
	e.inventory = productv1connect.NewInventoryServiceClient(hc, url, testworld.As(staffToken))
	e.catalog = productv1connect.NewProductServiceClient(hc, url, testworld.As(staffToken))
	e.internalInv = productv1connect.NewInventoryServiceClient(hc, url, internal)
	return e
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
func (e *env) customer(n int) clients { return e.as(testworld.As(testkit.Customer(n))) }

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
	var its []testworld.Item
	for _, it := range items {
		its = append(its, testworld.Item{SKU: it.sku, Price: it.price, Stock: it.stock, Grams: it.grams})
	}
	if n := e.world.Seed(t, its...); n != len(items) {
		t.Fatalf("seed = %d, want %d", n, len(items))
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

// holdStatus reads the state of order id's stock hold.
func (e *env) holdStatus(t *testing.T, id string) productv1.ReservationStatus {
	t.Helper()
	ctx := context.Background()
	var reservation string
	if err := e.world.DB["order"].NewRaw("SELECT reservation_id FROM orders WHERE id = ?", id).Scan(ctx, &reservation); err != nil {
		t.Fatal(err)
	}
	var status int32
	if err := e.world.DB["product"].NewRaw("SELECT status FROM stock_reservations WHERE id = ?", reservation).Scan(ctx, &status); err != nil {
		t.Fatal(err)
	}
	return productv1.ReservationStatus(status)
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
	testworld.Eventually(t, what, f)
}

func forEachEngine(t *testing.T, opt envOptions, f func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) { f(t, newEnv(t, engine, opt)) })
}

var code = testkit.Code

func destOf(a *typev1.PostalAddress) *typev1.Destination {
	return &typev1.Destination{Country: a.GetCountry(), Region: a.GetRegion(), PostalCode: a.GetPostalCode()}
}
