package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	"github.com/emporiumhq/emporium/gen/emporium/auth/v1/authv1connect"
	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	"github.com/emporiumhq/emporium/gen/emporium/shipping/v1/shippingv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
)

// The whole life of an order in `emporium dev`, through the edge, as a
// newcomer sees it in the dev mailbox: paid → one confirmation with the
// total; a parcel bought → the order is shipped and one email and one SMS
// carry its tracking number; nothing arrives twice.
func TestDevOrderPaidThenShippedNotifiesOnce(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	dataDir := t.TempDir()
	start(t, addr, nil, "dev", "--listen", addr, "--data-dir", dataDir, "--log-level", "warn")
	ctx := context.Background()
	base := "http://" + addr

	password, err := os.ReadFile(filepath.Join(dataDir, "admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	login, err := authv1connect.NewAuthServiceClient(http.DefaultClient, base).Login(ctx,
		&authv1.LoginRequest{Email: "admin@example.com", Password: strings.TrimSpace(string(password))})
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	staff := servetest.Bearer(login.GetTokens().GetAccessToken())

	list, err := productv1connect.NewProductServiceClient(http.DefaultClient, base).ListProducts(ctx,
		&productv1.ListProductsRequest{PageSize: 1, InStockOnly: true})
	if err != nil || len(list.GetProducts()) == 0 {
		t.Fatalf("ListProducts = %v, %v", list, err)
	}
	sku := list.GetProducts()[0].GetVariants()[0].GetSku()
	if _, err := orderv1connect.NewCartServiceClient(http.DefaultClient, base, staff).AddItem(ctx,
		&orderv1.AddItemRequest{Sku: sku, Quantity: 2}); err != nil {
		t.Fatalf("AddItem: %v", err)
	}
	checkout := orderv1connect.NewCheckoutServiceClient(http.DefaultClient, base, staff)
	co, err := checkout.Checkout(ctx, &orderv1.CheckoutRequest{
		ShippingAddress: &typev1.PostalAddress{Name: "Ada Lovelace", Line1: "1 Main St", City: "Oakland", Region: "CA",
			PostalCode: "94607", Country: "US", Phone: "+14155550100"},
		ShippingRateId: "local:standard", IdempotencyKey: "fulfilment-checkout",
	})
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	order := co.GetOrder()
	paid, err := checkout.PayOrder(ctx, &orderv1.PayOrderRequest{OrderId: order.GetId(), PaymentMethod: "pm_card_visa", IdempotencyKey: "fulfilment-pay"})
	if err != nil || paid.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
		t.Fatalf("PayOrder = %v, %v; want paid", paid, err)
	}

	mailbox := notificationv1connect.NewMailboxServiceClient(http.DefaultClient, base, staff)
	// about lists the messages that name the order, oldest first.
	about := func() []*notificationv1.MailboxMessage {
		t.Helper()
		res, err := mailbox.ListMailbox(ctx, &notificationv1.ListMailboxRequest{Limit: 200})
		if err != nil {
			t.Fatalf("ListMailbox: %v", err)
		}
		var out []*notificationv1.MailboxMessage
		for _, m := range res.GetMessages() {
			if strings.Contains(m.GetSubject()+m.GetText(), order.GetNumber()) {
				out = append([]*notificationv1.MailboxMessage{m}, out...)
			}
		}
		return out
	}
	waitFor := func(what string, n int) []*notificationv1.MailboxMessage {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got := about()
			if len(got) >= n || time.Now().After(deadline) {
				if len(got) != n {
					t.Fatalf("%s: %d messages about %s, want %d: %v", what, len(got), order.GetNumber(), n, got)
				}
				return got
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	confirmation := waitFor("after payment", 1)[0]
	total := paid.GetOrder().GetTotal().GetAmount()
	wantTotal := fmt.Sprintf("$%d.%02d", total/100, total%100)
	if confirmation.GetChannel() != notificationv1.Channel_CHANNEL_EMAIL || confirmation.GetTo() != "admin@example.com" ||
		!strings.Contains(confirmation.GetText(), wantTotal) {
		t.Errorf("confirmation = %s to %s: %q; want an email to admin@example.com with the total %s",
			confirmation.GetChannel(), confirmation.GetTo(), confirmation.GetText(), wantTotal)
	}

	shipments := shippingv1connect.NewShippingServiceClient(http.DefaultClient, base, staff)
	created, err := shipments.CreateShipment(ctx, &shippingv1.CreateShipmentRequest{
		OrderId: order.GetId(), RateId: "local:standard", IdempotencyKey: "fulfilment-ship",
		Parcels: []*shippingv1.ParcelSpec{{Items: []*shippingv1.ShipmentItem{{Sku: sku, Quantity: 2}}, WeightGrams: 1500}},
	})
	if err != nil || len(created.GetShipments()) != 1 {
		t.Fatalf("CreateShipment = %v, %v", created, err)
	}
	tracking := created.GetShipments()[0].GetTrackingNumber()
	// Retrying the same purchase buys nothing more and tells nobody again.
	if again, err := shipments.CreateShipment(ctx, &shippingv1.CreateShipmentRequest{
		OrderId: order.GetId(), RateId: "local:standard", IdempotencyKey: "fulfilment-ship",
		Parcels: []*shippingv1.ParcelSpec{{Items: []*shippingv1.ShipmentItem{{Sku: sku, Quantity: 2}}, WeightGrams: 1500}},
	}); err != nil || again.GetShipments()[0].GetTrackingNumber() != tracking {
		t.Errorf("repeated CreateShipment = %v, %v; want the same parcel %s", again, err, tracking)
	}

	msgs := waitFor("after shipping", 3)
	byChannel := map[notificationv1.Channel][]*notificationv1.MailboxMessage{}
	for _, m := range msgs[1:] {
		byChannel[m.GetChannel()] = append(byChannel[m.GetChannel()], m)
		if !strings.Contains(m.GetText(), tracking) {
			t.Errorf("%s to %s does not carry the tracking number %s: %q", m.GetChannel(), m.GetTo(), tracking, m.GetText())
		}
	}
	if len(byChannel[notificationv1.Channel_CHANNEL_EMAIL]) != 1 || len(byChannel[notificationv1.Channel_CHANNEL_SMS]) != 1 {
		t.Errorf("shipped: %v; want one email and one SMS", msgs[1:])
	}
	if sms := byChannel[notificationv1.Channel_CHANNEL_SMS]; len(sms) == 1 && sms[0].GetTo() != "+14155550100" {
		t.Errorf("SMS went to %q, want the shipping address's phone", sms[0].GetTo())
	}

	got, err := orderv1connect.NewOrderServiceClient(http.DefaultClient, base, staff).GetOrder(ctx, &orderv1.GetOrderRequest{Id: order.GetId()})
	if err != nil || got.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_SHIPPED {
		t.Errorf("order after its only parcel's label = %v, %v; want shipped", got.GetOrder().GetStatus(), err)
	}
	// The jobs have run; a moment later nothing more has arrived.
	time.Sleep(time.Second)
	if n := len(about()); n != 3 {
		t.Errorf("%d messages about the order after the jobs settled, want 3", n)
	}
	// A stranger's token cannot read the mailbox, which holds sign-in links.
	if _, err := notificationv1connect.NewMailboxServiceClient(http.DefaultClient, base).ListMailbox(ctx,
		&notificationv1.ListMailboxRequest{}); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("ListMailbox without a token: %v, want unauthenticated", err)
	}
}
