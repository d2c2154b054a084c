package order_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
)

func TestOrderStatsCountPaidOrdersPerDay(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "CUP", price: 900, stock: 100})
		var paidTotal int64
		for i, who := range []int{50, 51, 52} {
			c := e.customer(who)
			if _, err := c.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "CUP", Quantity: int64(i + 1)}); err != nil {
				t.Fatal(err)
			}
			co, err := checkout(ctx, c, fmt.Sprintf("stats-order-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			if who == 52 {
				continue // left unpaid: not an order in the stats
			}
			paid, err := pay(ctx, c, co.GetOrder().GetId(), goodCard, fmt.Sprintf("stats-order-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			paidTotal += paid.GetOrder().GetTotal().GetAmount()
		}
		zone := "Pacific/Kiritimati" // UTC+14: its today is often UTC's tomorrow
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		today := time.Now().In(loc)
		res, err := e.staff.orders.GetOrderStats(ctx, &orderv1.GetOrderStatsRequest{
			StartDate: today.AddDate(0, 0, -6).Format(time.DateOnly), EndDate: today.Format(time.DateOnly), TimeZone: zone,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.GetDays()) != 7 || res.GetOrders() != 2 || res.GetRevenue().GetAmount() != paidTotal || res.GetRevenue().GetCurrency() != "USD" || res.GetAwaitingShipment() != 2 {
			t.Fatalf("stats = %v; want 7 days, 2 paid orders worth %d, 2 awaiting shipment", res, paidTotal)
		}
		last := res.GetDays()[6]
		if last.GetDate() != today.Format(time.DateOnly) || last.GetOrders() != 2 || last.GetRevenue().GetAmount() != paidTotal {
			t.Errorf("today in %s = %v; want both orders on %s", zone, last, today.Format(time.DateOnly))
		}
		for _, d := range res.GetDays()[:6] {
			if d.GetOrders() != 0 || d.GetRevenue().GetAmount() != 0 {
				t.Errorf("day %v has orders; want none before today", d)
			}
		}

		bad := []struct {
			name string
			req  *orderv1.GetOrderStatsRequest
			want string
		}{
			{"not a date", &orderv1.GetOrderStatsRequest{StartDate: "2026-02-30", EndDate: "2026-03-01"}, "start_date"},
			{"backwards", &orderv1.GetOrderStatsRequest{StartDate: "2026-03-02", EndDate: "2026-03-01"}, "before start_date"},
			{"over a year", &orderv1.GetOrderStatsRequest{StartDate: "2024-01-01", EndDate: "2026-01-01"}, "more than 366 days"},
			{"unknown zone", &orderv1.GetOrderStatsRequest{StartDate: "2026-03-01", EndDate: "2026-03-01", TimeZone: "Mars/Olympus"}, "time_zone"},
			{"a malformed date", &orderv1.GetOrderStatsRequest{StartDate: "yesterday", EndDate: "2026-03-01"}, "start_date"},
		}
		for _, tt := range bad {
			if _, err := e.staff.orders.GetOrderStats(ctx, tt.req); connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want invalid_argument saying %q", tt.name, err, tt.want)
			}
		}
		if _, err := e.customer(50).orders.GetOrderStats(ctx, &orderv1.GetOrderStatsRequest{StartDate: "2026-03-01", EndDate: "2026-03-01"}); connect.CodeOf(err) != connect.CodePermissionDenied {
			t.Errorf("customer: %v, want permission_denied", err)
		}
		if _, err := e.anon.orders.GetOrderStats(ctx, &orderv1.GetOrderStatsRequest{StartDate: "2026-03-01", EndDate: "2026-03-01"}); connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Errorf("anonymous: %v, want unauthenticated", err)
		}
	})
}
