package notification_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/internal/testworld"
	"github.com/emporiumhq/emporium/svc/notification/channel/channeltest"
)

// A shopper checks out and pays through the real order service: exactly
// one confirmation email reaches the SMTP server, with the order's totals;
// a staff refund then brings one refund email.
func TestPaidOrderThroughTheOrderServiceEmailsOnce(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engine, envOptions{commerce: true})
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
				OrderId: co.GetOrder().GetId(), PaymentMethod: testworld.CardSucceeds, IdempotencyKey: "payment-ada-1",
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
				OrderId: co2.GetOrder().GetId(), PaymentMethod: testworld.CardSucceeds, IdempotencyKey: "payment-ada-2",
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
