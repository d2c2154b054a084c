package order

import (
	"context"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
)

// changeReadOrder writes on the row the caller read without reading it
// again, and when that row is stale, or the change wrote nothing, makes the
// change again on the row as it is, so no concurrent change is lost.
func TestChangeReadOrderNeverLosesAConcurrentChange(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		s := &store{db: dbtest.Open(t, engine, "order", Migrations)}
		o := &orderRow{ID: "o-1", Number: "EMP-1", CustomerID: "user-1", Status: pendingPayment, Currency: "USD",
			IdempotencyKey: "k-1", Version: 1, History: []*statusStep{{To: pendingPayment, Reason: "checked out"}}}
		if err := s.tx(ctx, func(ctx context.Context, tx bun.Tx) error { return s.insertOrder(ctx, tx, o) }); err != nil {
			t.Fatal(err)
		}
		step := func(reason string, calls *int) func(context.Context, bun.Tx, *orderRow) error {
			return func(ctx context.Context, tx bun.Tx, o *orderRow) error {
				*calls++
				o.History = append(o.History, &statusStep{From: o.Status, To: o.Status, Reason: reason})
				return s.updateOrder(ctx, tx, o)
			}
		}

		read, err := s.order(ctx, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		var calls int
		got, err := s.changeReadOrder(ctx, read, step("fresh", &calls))
		if err != nil || calls != 1 || got.Version != 2 || read.Version != 1 {
			t.Fatalf("on a fresh row: version %d (read %d), %d calls, %v; want version 2 in one call, the read untouched",
				got.Version, read.Version, calls, err)
		}

		stale := got
		var other int
		if _, err := s.changeOrder(ctx, "o-1", step("meanwhile", &other)); err != nil {
			t.Fatal(err)
		}
		calls = 0
		got, err = s.changeReadOrder(ctx, stale, step("after", &calls))
		if err != nil || calls != 2 || got.Version != 4 {
			t.Fatalf("on a stale row: version %d, %d calls, %v; want version 4 in two calls", got.Version, calls, err)
		}

		calls = 0
		none := func(context.Context, bun.Tx, *orderRow) error { calls++; return nil }
		if _, err := s.changeReadOrder(ctx, got, none); err != nil || calls != 2 {
			t.Fatalf("a change that writes nothing: %d calls, %v; want it decided again on the locked row", calls, err)
		}

		final, err := s.order(ctx, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		var reasons []string
		for _, h := range final.History {
			reasons = append(reasons, h.Reason)
		}
		if want := "checked out,fresh,meanwhile,after"; strings.Join(reasons, ",") != want {
			t.Errorf("history %q, want %q", strings.Join(reasons, ","), want)
		}
	})
}
