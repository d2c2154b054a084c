package order

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db"
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

		plan := explain(t, s.db, expiredOrdersQuery(s.db, 1000, &expiring{ID: "late-a", ExpiresAt: 200}, 100).String())
		if !strings.Contains(plan, "orders_expiry") {
			t.Errorf("the sweep's query does not use orders_expiry; plan:\n%s", plan)
		}
	})
}

// explain is the plan of query: SQLite's EXPLAIN QUERY PLAN, or
// PostgreSQL's EXPLAIN with sequential scans off (a table of six rows
// tells nothing of the planner's choice on a real one; this shows the
// index can serve the query, its predicate matching).
func explain(t *testing.T, d *bun.DB, query string) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		prefix := "EXPLAIN QUERY PLAN "
		if db.IsPostgres(d) {
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			prefix = "EXPLAIN "
		}
		rows, err := tx.QueryContext(ctx, prefix+query)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			lines = append(lines, fmt.Sprint(vals...))
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
