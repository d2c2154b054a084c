package order_test

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
)

// The shipping service reads and moves orders through the internal RPCs;
// shoppers and staff cannot call them.
func TestInternalOrderRPCsForTheShippingService(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "ROPE", price: 900, stock: 5, grams: 300})
		me := e.customer(11)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "ROPE", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		res, err := checkout(ctx, me, "rope-0001")
		if err != nil {
			t.Fatal(err)
		}
		id := res.GetOrder().GetId()
		if _, err := pay(ctx, me, id, goodCard, "rope-0001"); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, me, id, orderv1.OrderStatus_ORDER_STATUS_PAID)

		internal := orderv1connect.NewOrderServiceClient(http.DefaultClient, e.url, servetest.Bearer(serviceToken))
		for name, c := range map[string]orderv1connect.OrderServiceClient{"shopper": me.orders, "staff": e.staff.orders} {
			if _, err := c.GetOrderInternal(ctx, &orderv1.GetOrderInternalRequest{Id: id}); code(err) != connect.CodePermissionDenied {
				t.Errorf("%s GetOrderInternal: %v, want permission_denied", name, err)
			}
			_, err := c.UpdateFulfillmentInternal(ctx, &orderv1.UpdateFulfillmentInternalRequest{Id: id,
				Status: orderv1.OrderStatus_ORDER_STATUS_FULFILLING, EventId: "x"})
			if code(err) != connect.CodePermissionDenied {
				t.Errorf("%s UpdateFulfillmentInternal: %v, want permission_denied", name, err)
			}
		}
		got, err := internal.GetOrderInternal(ctx, &orderv1.GetOrderInternalRequest{Id: id})
		if err != nil || got.GetOrder().GetCustomerId() != "user-11" {
			t.Fatalf("GetOrderInternal = %v, %v", got.GetOrder(), err)
		}
		if _, err := internal.GetOrderInternal(ctx, &orderv1.GetOrderInternalRequest{Id: "nope"}); code(err) != connect.CodeNotFound {
			t.Errorf("GetOrderInternal of no order: %v", err)
		}
		move := func(st orderv1.OrderStatus, event string) (*orderv1.Order, error) {
			res, err := internal.UpdateFulfillmentInternal(ctx, &orderv1.UpdateFulfillmentInternalRequest{Id: id, Status: st, EventId: event})
			return res.GetOrder(), err
		}
		if _, err := move(orderv1.OrderStatus_ORDER_STATUS_FULFILLING, ""); code(err) != connect.CodeInvalidArgument {
			t.Errorf("no event_id: %v, want invalid_argument", err)
		}
		for _, step := range []struct {
			to    orderv1.OrderStatus
			event string
		}{
			{orderv1.OrderStatus_ORDER_STATUS_FULFILLING, "shipment:s1:fulfilling"},
			{orderv1.OrderStatus_ORDER_STATUS_SHIPPED, "shipment:s1:shipped"},
			{orderv1.OrderStatus_ORDER_STATUS_SHIPPED, "shipment:s1:shipped"}, // redelivered
			{orderv1.OrderStatus_ORDER_STATUS_DELIVERED, "order:o1:delivered"},
		} {
			if _, err := move(step.to, step.event); err != nil {
				t.Fatalf("%s by %s: %v", step.to, step.event, err)
			}
		}
		o, err := move(orderv1.OrderStatus_ORDER_STATUS_FULFILLING, "shipment:s1:fulfilling") // an old event again
		if err != nil {
			t.Fatalf("repeated old event: %v", err)
		}
		want := []string{"∅→PENDING_PAYMENT", "PENDING_PAYMENT→PAID", "PAID→FULFILLING", "FULFILLING→SHIPPED", "SHIPPED→DELIVERED"}
		if diff := cmp.Diff(want, statuses(o)); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})
}
