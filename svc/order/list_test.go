package order_test

import (
	"context"
	"fmt"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

func TestStaffListOrdersFiltersSearchesAndPages(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "CUP", price: 900, stock: 100})
		// Five orders by two customers; customer 41's last one is paid.
		var ids []string
		for i, who := range []int{40, 41, 40, 41, 41} {
			c := e.customer(who)
			if _, err := c.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "CUP", Quantity: 1}); err != nil {
				t.Fatal(err)
			}
			addr := &typev1.PostalAddress{Name: fmt.Sprintf("Buyer %d Ng", who), Line1: "1 Main St", City: "Austin", Region: "TX", Country: "US"}
			co, err := c.checkout.Checkout(ctx, &orderv1.CheckoutRequest{ShippingAddress: addr, ShippingRateId: "local:standard", IdempotencyKey: fmt.Sprintf("list-test-%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, co.GetOrder().GetId())
		}
		if _, err := pay(ctx, e.customer(41), ids[4], goodCard, "list-pay"); err != nil {
			t.Fatal(err)
		}
		list := func(req *orderv1.ListOrdersRequest) []string {
			t.Helper()
			var got []string
			for {
				res, err := e.staff.orders.ListOrders(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range res.GetOrders() {
					got = append(got, o.GetId())
				}
				if res.GetNextPageToken() == "" {
					return got
				}
				req.PageToken = res.GetNextPageToken()
			}
		}
		rev := func(xs ...string) []string { // newest first
			out := make([]string, len(xs))
			for i, x := range xs {
				out[len(xs)-1-i] = x
			}
			return out
		}
		tests := []struct {
			name string
			req  *orderv1.ListOrdersRequest
			want []string
		}{
			{"all, two per page", &orderv1.ListOrdersRequest{PageSize: 2}, rev(ids...)},
			{"one customer", &orderv1.ListOrdersRequest{CustomerId: "user-40", PageSize: 1}, rev(ids[0], ids[2])},
			{"paid only", &orderv1.ListOrdersRequest{Statuses: []orderv1.OrderStatus{orderv1.OrderStatus_ORDER_STATUS_PAID}}, []string{ids[4]}},
			{"ship-to name, any case", &orderv1.ListOrdersRequest{Query: "buyer 41"}, rev(ids[1], ids[3], ids[4])},
			{"an order id", &orderv1.ListOrdersRequest{Query: ids[2]}, []string{ids[2]}},
			{"no match, and a name with % is not a wildcard", &orderv1.ListOrdersRequest{Query: "%"}, nil},
		}
		for _, tt := range tests {
			if diff := cmp.Diff(tt.want, list(tt.req)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}
		first, err := e.staff.orders.ListOrders(ctx, &orderv1.ListOrdersRequest{PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		byNumber, err := e.staff.orders.ListOrders(ctx, &orderv1.ListOrdersRequest{Query: first.GetOrders()[0].GetNumber()})
		if err != nil || len(byNumber.GetOrders()) != 1 || byNumber.GetOrders()[0].GetId() != ids[4] {
			t.Errorf("by order number = %v, %v; want the newest order", byNumber, err)
		}
		if _, err := e.staff.orders.ListOrders(ctx, &orderv1.ListOrdersRequest{PageSize: 1, PageToken: first.GetNextPageToken(), CustomerId: "user-40"}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("a page token with other filters: %v, want invalid_argument", err)
		}
		if _, err := e.customer(40).orders.ListOrders(ctx, &orderv1.ListOrdersRequest{}); code(err) != connect.CodePermissionDenied {
			t.Errorf("a customer listing every order: %v, want permission_denied", err)
		}
	})
}
