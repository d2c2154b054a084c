package order

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
)

// The expiry sweep pages through the pending orders past their deadline,
// oldest deadline first, and reads them from the partial index of pending
// orders, never a paid one or one still in its window.
func TestExpiredOrdersPageThroughPendingOnesByTheirIndex(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		s := &store{db: dbtest.Open(t, engine, "order", Migrations)}
		for i, o := range []struct {
			id     string
			status status
			expiry int64
		}{
			{"late-b", pendingPayment, 200}, {"late-a", pendingPayment, 200}, {"latest", pendingPayment, 900},
			{"oldest", pendingPayment, 100}, {"paid", paid, 50}, {"in-window", pendingPayment, 5000},
		} {
			row := &orderRow{ID: o.id, Number: fmt.Sprint("EMP-", i), CustomerID: "user-1", Status: o.status, Currency: "USD",
				IdempotencyKey: o.id, ExpiresAt: o.expiry, Version: 1}
			if err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error { return s.insertOrder(ctx, tx, row) }); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		var after *expiring
		for page := 0; page < 5; page++ {
			batch, err := s.expiredOrders(ctx, 1000, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range batch {
				got = append(got, o.ID)
			}
			if len(batch) < 2 {
				break
			}
			after = batch[len(batch)-1]
		}
		if diff := cmp.Diff([]string{"oldest", "late-a", "late-b", "latest"}, got); diff != "" {
			t.Errorf("expired orders, two a page (-want +got):\n%s", diff)
		}

		plan := strings.Join(dbtest.Plan(t, s.db, expiredOrdersQuery(s.db, 1000, &expiring{ID: "late-a", ExpiresAt: 200}, 100).String()), "\n")
		if !strings.Contains(plan, "orders_expiry") {
			t.Errorf("the sweep's query does not use orders_expiry; plan:\n%s", plan)
		}
	})
}
