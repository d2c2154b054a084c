package notification_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/gen/emporium/payment/v1/paymentv1connect"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/search/bleve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/svc/notification/channel/channeltest"
	"github.com/emporiumhq/emporium/svc/order"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/payment/provider"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
	"github.com/emporiumhq/emporium/svc/shipping"
)

// addCommerce mounts the real product, shipping, payment (on its
// simulator) and order services beside the env's, the order service
// reporting to the notification service as cmd/emporium wires it.
func (e *env) addCommerce(t *testing.T, engine string) {
	t.Helper()
	ctx := context.Background()
	hc, internal := http.DefaultClient, servetest.Bearer(serviceToken)

	pdb := dbtest.Open(t, engine, "product", product.Migrations)
	idx, err := bleve.Open(t.TempDir() + "/products.bleve")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	prod, err := product.New(product.Deps{DB: pdb, Index: idx, Currency: "USD", Log: e.log})
	if err != nil {
		t.Fatal(err)
	}
	prod.Mount(e.mux, e.opts...)
	cat := seed.Catalog{Categories: []seed.Category{{Slug: "goods", Name: "Goods"}}}
	cat.Products = append(cat.Products, &productv1.CreateProductRequest{
		Slug: "enamel-mug", Title: "Enamel mug", Category: "goods",
		Variants: []*productv1.Variant{{Sku: "MUG-BLUE", Title: "Blue", Price: money(1250), Stock: 10, WeightGrams: 400}},
	})
	if n, err := prod.Seed(ctx, cat, nil); err != nil || n != 1 {
		t.Fatalf("seed = %d, %v", n, err)
	}

	ship, err := shipping.New(shipping.Deps{Rates: shipping.DefaultRateTable(), Currency: "USD", Log: e.log})
	if err != nil {
		t.Fatal(err)
	}
	ship.Mount(e.mux, e.opts...)

	paydb := dbtest.Open(t, engine, "payment", payment.Migrations)
	if _, err := payment.Migrate(ctx, paydb); err != nil {
		t.Fatal(err)
	}
	var paySvc *payment.Service
	sim, err := provider.NewSimulator(provider.SimulatorConfig{
		WebhookSecret: "whsec_test", ActionURL: e.url + payment.SimulatorActionPath,
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
		Outcomes: orderOutcomes{orderv1connect.NewOrderServiceClient(hc, e.url, internal)},
		Currency: "USD", Log: e.log, JobPoll: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	paySvc.Mount(e.mux, e.opts...)

	odb := dbtest.Open(t, engine, "order", order.Migrations)
	if _, err := order.Migrate(ctx, odb); err != nil {
		t.Fatal(err)
	}
	ord, err := order.New(order.Deps{
		DB:            odb,
		Catalog:       productv1connect.NewProductServiceClient(hc, e.url, internal),
		Inventory:     productv1connect.NewInventoryServiceClient(hc, e.url, internal),
		Shipping:      shippingv1connect.NewShippingServiceClient(hc, e.url, internal),
		Payments:      paymentv1connect.NewPaymentServiceClient(hc, e.url, internal),
		Notifications: notificationv1connect.NewNotificationServiceClient(hc, e.url, internal),
		Currency:      "USD", Log: e.log, JobPoll: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ord.Mount(e.mux, e.opts...)
	for _, svc := range []interface {
		Start(context.Context) error
		Stop(context.Context) error
	}{paySvc, ord} {
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = svc.Stop(stop)
		})
	}
}

type orderOutcomes struct {
	orders orderv1connect.OrderServiceClient
}

func (o orderOutcomes) ApplyPaymentEvent(ctx context.Context, ev *paymentv1.PaymentEvent) error {
	_, err := o.orders.ApplyPaymentEvent(ctx, &orderv1.ApplyPaymentEventRequest{Event: ev})
	return err
}

// A shopper checks out and pays through the real order service: exactly
// one confirmation email reaches the SMTP server, with the order's totals;
// a staff refund then brings one refund email.
func TestPaidOrderThroughTheOrderServiceEmailsOnce(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engine, envOptions{})
			e.addCommerce(t, engine)
			ctx := context.Background()
			ada := e.register(t, "Ada", nil)
			me := servetest.Bearer("user:" + ada.id)
			cart := orderv1connect.NewCartServiceClient(http.DefaultClient, e.url, me)
			checkout := orderv1connect.NewCheckoutServiceClient(http.DefaultClient, e.url, me)
			if _, err := cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "MUG-BLUE", Quantity: 2}); err != nil {
				t.Fatalf("AddItem: %v", err)
			}
			home := &typev1.PostalAddress{Name: "Ada Lovelace", Line1: "1 Main St", City: "San Francisco", Region: "CA", PostalCode: "94105", Country: "US"}
			co, err := checkout.Checkout(ctx, &orderv1.CheckoutRequest{ShippingAddress: home, ShippingRateId: "local:standard", IdempotencyKey: "checkout-ada-1"})
			if err != nil {
				t.Fatalf("Checkout: %v", err)
			}
			paid, err := checkout.PayOrder(ctx, &orderv1.PayOrderRequest{
				OrderId: co.GetOrder().GetId(), PaymentMethod: provider.TestCardSucceeds, IdempotencyKey: "payment-ada-1",
			})
			if err != nil {
				t.Fatalf("PayOrder: %v", err)
			}
			o := paid.GetOrder()
			if o.GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
				t.Fatalf("order %s after paying", o.GetStatus())
			}
			subject := "Order " + o.GetNumber() + " confirmed"
			waitMail(t, e, ada.email, subject)
			// The payment's webhook reports the success again; give every
			// job time to run, then count.
			time.Sleep(time.Second)
			e.waitIdle(t)
			got := bySubject(e, ada.email, subject)
			if len(got) != 1 {
				t.Fatalf("%d confirmation emails, want exactly 1", len(got))
			}
			text := got[0].Text
			for _, want := range []string{
				"2 × Enamel mug (Blue)  $25.00",
				"Subtotal: " + usd(o.GetSubtotal()),
				"Shipping: " + usd(o.GetShippingTotal()),
				"Total: " + usd(o.GetTotal()),
			} {
				if !strings.Contains(text, want) {
					t.Errorf("confirmation lacks %q:\n%s", want, text)
				}
			}

			staff := orderv1connect.NewOrderServiceClient(http.DefaultClient, e.url, servetest.Bearer(staffToken))
			if _, err := staff.RefundOrder(ctx, &orderv1.RefundOrderRequest{Id: o.GetId(), Amount: proto.Int64(500), IdempotencyKey: "refund-ada-1"}); err != nil {
				t.Fatalf("RefundOrder: %v", err)
			}
			refund := "Refund for order " + o.GetNumber()
			waitMail(t, e, ada.email, refund)
			if r := bySubject(e, ada.email, refund); len(r) != 1 || !strings.Contains(r[0].Text, "We refunded $5.00") {
				t.Errorf("refund emails: %+v, want one for $5.00", r)
			}

			// A second order, paid and then canceled by the shopper: one
			// cancel email, then one for the full refund the cancel makes.
			if _, err := cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "MUG-BLUE", Quantity: 1}); err != nil {
				t.Fatalf("AddItem: %v", err)
			}
			co2, err := checkout.Checkout(ctx, &orderv1.CheckoutRequest{ShippingAddress: home, ShippingRateId: "local:standard", IdempotencyKey: "checkout-ada-2"})
			if err != nil {
				t.Fatalf("Checkout: %v", err)
			}
			if _, err := checkout.PayOrder(ctx, &orderv1.PayOrderRequest{
				OrderId: co2.GetOrder().GetId(), PaymentMethod: provider.TestCardSucceeds, IdempotencyKey: "payment-ada-2",
			}); err != nil {
				t.Fatalf("PayOrder: %v", err)
			}
			mine := orderv1connect.NewOrderServiceClient(http.DefaultClient, e.url, me)
			canceled, err := mine.CancelOrder(ctx, &orderv1.CancelOrderRequest{Id: co2.GetOrder().GetId()})
			if err != nil {
				t.Fatalf("CancelOrder: %v", err)
			}
			o2 := canceled.GetOrder()
			waitMail(t, e, ada.email, "Order "+o2.GetNumber()+" canceled")
			waitMail(t, e, ada.email, "Refund for order "+o2.GetNumber())
			time.Sleep(time.Second)
			e.waitIdle(t)
			for _, subject := range []string{"Order " + o2.GetNumber() + " confirmed", "Order " + o2.GetNumber() + " canceled", "Refund for order " + o2.GetNumber()} {
				if n := len(bySubject(e, ada.email, subject)); n != 1 {
					t.Errorf("%d emails %q, want 1", n, subject)
				}
			}
			if r := bySubject(e, ada.email, "Refund for order "+o2.GetNumber()); len(r) == 1 && !strings.Contains(r[0].Text, "We refunded "+usd(o2.GetTotal())) {
				t.Errorf("refund of the canceled order: %q, want the full %s", r[0].Text, usd(o2.GetTotal()))
			}
		})
	}
}

func usd(m *typev1.Money) string {
	if m.GetCurrency() != "USD" {
		return "not USD: " + m.String()
	}
	return formatUSD(m.GetAmount())
}

// formatUSD writes cents the way the templates do, independently of the
// service's code: "$1,234.50".
func formatUSD(cents int64) string {
	whole := cents / 100
	s := ""
	for whole >= 1000 {
		s = "," + pad3(whole%1000) + s
		whole /= 1000
	}
	return "$" + itoa(whole) + s + "." + pad2(cents%100)
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func pad2(n int64) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }
func pad3(n int64) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

func bySubject(e *env, to, subject string) []channeltest.Received {
	var out []channeltest.Received
	for _, m := range e.smtp.To(to) {
		if m.Subject() == subject {
			out = append(out, m)
		}
	}
	return out
}

func waitMail(t *testing.T, e *env, to, subject string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for len(bySubject(e, to, subject)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no email %q to %s after %s (got %v)", subject, to, waitTimeout, subjects(e.smtp.To(to)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
