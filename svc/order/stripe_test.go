package order_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"github.com/emporiumhq/emporium/internal/testworld"
)

// A shop on Stripe, with stripe-mock standing in for Stripe's API:
// checkout opens a PaymentIntent whose client secret (which lets whoever
// holds it pay with Stripe.js) reaches the order's owner and no one else,
// PayOrder confirms by PaymentMethod id and refuses card digits, and
// refunds go to Stripe. stripe-mock is stateless: it never moves an intent
// on, so the test stands in for the success Stripe would report by
// webhook, and cannot check Stripe's own behaviour (3-D Secure, wallets).
func TestStripeCheckoutGivesTheClientSecretToTheOwnerOnly(t *testing.T) {
	t.Parallel()
	stripeURL := testworld.StartStripeMock(t)
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine, envOptions{stripeURL: stripeURL})
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "LAMP", price: 4500, stock: 5, grams: 1200})
		alice, mallory := e.customer(40), e.customer(41)
		if _, err := alice.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "LAMP", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		co, err := checkout(ctx, alice, "lamp-checkout")
		if err != nil {
			t.Fatal(err)
		}
		id, opened := co.GetOrder().GetId(), co.GetPayment()
		secret := opened.GetClientSecret()
		if opened.GetProvider() != "stripe" || !strings.HasPrefix(opened.GetProviderPaymentId(), "pi_") || secret == "" {
			t.Fatalf("checkout's payment %v, want a Stripe PaymentIntent with its client secret", opened)
		}

		// The owner reads it again (to pay later, from the order's page).
		again, err := alice.checkout.GetOrderPayment(ctx, &orderv1.GetOrderPaymentRequest{OrderId: id})
		if err != nil || again.GetPayment().GetClientSecret() != secret || again.GetOrder().GetId() != id {
			t.Errorf("GetOrderPayment as the owner = %v, %v; want the secret", again, err)
		}
		// Nobody else does: not another shopper, not staff.
		for who, c := range map[string]clients{"another shopper": mallory, "staff": e.staff} {
			if _, err := c.checkout.GetOrderPayment(ctx, &orderv1.GetOrderPaymentRequest{OrderId: id}); code(err) != connect.CodeNotFound {
				t.Errorf("GetOrderPayment as %s: %v, want not_found", who, err)
			}
		}
		if _, err := e.anon.checkout.GetOrderPayment(ctx, &orderv1.GetOrderPaymentRequest{OrderId: id}); code(err) != connect.CodeUnauthenticated {
			t.Errorf("GetOrderPayment anonymously: %v, want unauthenticated", err)
		}
		if _, err := pay(ctx, mallory, id, "pm_card_visa", "mallory"); code(err) != connect.CodeNotFound {
			t.Errorf("another shopper paying the order: %v, want not_found", err)
		}
		got, err := e.staff.orders.GetOrder(ctx, &orderv1.GetOrderRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		list, err := e.staff.orders.ListOrders(ctx, &orderv1.ListOrdersRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for what, raw := range map[string][]byte{"GetOrder": mustJSON(t, got), "ListOrders": mustJSON(t, list)} {
			if !strings.Contains(string(raw), id) {
				t.Errorf("staff %s does not show the order: %s", what, raw)
			}
			if strings.Contains(string(raw), secret) || strings.Contains(string(raw), "_secret_") {
				t.Errorf("staff %s shows the client secret: %s", what, raw)
			}
		}
		// Staff may pay on a shopper's behalf, but get no secret back.
		byStaff, err := pay(ctx, e.staff, id, "pm_card_visa", "staff")
		if err != nil || byStaff.GetPayment().GetProviderPaymentId() != opened.GetProviderPaymentId() || byStaff.GetPayment().GetClientSecret() != "" {
			t.Errorf("PayOrder as staff = %v, %v; want the intent, without its secret", byStaff, err)
		}

		// The owner pays by PaymentMethod id; card digits never get in.
		for _, digits := range []string{"4242424242424242", "4242 4242 4242 4242", "4000-0027-6000-3184"} {
			_, err := pay(ctx, alice, id, digits, "digits")
			if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "send a payment method token, not card details") ||
				strings.Join(testkit.ViolationFields(err), ",") != "payment_method" {
				t.Errorf("PayOrder with %q: %v, want invalid_argument on payment_method", digits, err)
			}
		}
		paid, err := pay(ctx, alice, id, "pm_card_visa", "alice")
		if err != nil || paid.GetPayment().GetProviderPaymentId() != opened.GetProviderPaymentId() || paid.GetPayment().GetClientSecret() != secret {
			t.Fatalf("PayOrder by PaymentMethod id = %v, %v", paid, err)
		}

		// Stripe says the intent succeeded (by webhook; the payment service's
		// outbox reports it to the order service).
		if _, err := e.world.DB["payment"].ExecContext(ctx, "UPDATE payments SET status = ? WHERE id = ?",
			int32(paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED), opened.GetId()); err != nil {
			t.Fatal(err)
		}
		succeeded := &paymentv1.Payment{Id: opened.GetId(), OrderId: id, Amount: opened.GetAmount(), Status: paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED}
		if _, err := e.as(testworld.As(serviceToken)).orders.ApplyPaymentEvent(ctx, &orderv1.ApplyPaymentEventRequest{Event: &paymentv1.PaymentEvent{EventId: opened.GetId() + ":9", Payment: succeeded}}); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, alice, id, orderv1.OrderStatus_ORDER_STATUS_PAID)
		// A paid order's secret is of no more use: it is not handed out.
		if after, err := alice.checkout.GetOrderPayment(ctx, &orderv1.GetOrderPaymentRequest{OrderId: id}); err != nil || after.GetPayment().GetClientSecret() != "" {
			t.Errorf("GetOrderPayment of a paid order = %v, %v; want no secret", after, err)
		}

		refunded, err := e.staff.orders.RefundOrder(ctx, &orderv1.RefundOrderRequest{Id: id, IdempotencyKey: "lamp-refund", Amount: ptr(int64(1000)), Reason: "dented"})
		if err != nil {
			t.Fatalf("RefundOrder through Stripe: %v", err)
		}
		if o := refunded.GetOrder(); o.GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PARTIALLY_REFUNDED || o.GetRefundedTotal().GetAmount() != 1000 {
			t.Errorf("after a 10.00 refund: %s, refunded %v", short(o.GetStatus()), o.GetRefundedTotal())
		}
	})
}

func mustJSON(t *testing.T, m interface{ ProtoReflect() protoreflect.Message }) []byte {
	t.Helper()
	raw, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
