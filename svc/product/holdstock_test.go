package product

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
)

// TestHoldStockWritesWhatTheTransactionWrites checks reserve's fast path on
// PostgreSQL, the hold_stock function, against the transaction it stands in
// for: a usual hold writes the same rows either way; a hold it cannot make
// alone (a SKU running out or missing, a key already taken) changes nothing
// and is left to the transaction.
func TestHoldStockWritesWhatTheTransactionWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fast, slow := heldStore(t), heldStore(t)
	hold := func(id string, items ...*reservationItemRow) *reservationRow {
		r := &reservationRow{ID: id, Status: held, IdempotencyKey: "k-" + id, RequestHash: "h-" + id, ExpiresAt: 2000, CreatedAt: 1000, UpdatedAt: 1000}
		for _, it := range items {
			it.ReservationID = id
			r.Items = append(r.Items, it)
		}
		return r
	}
	usual := func(id string) *reservationRow {
		return hold(id, &reservationItemRow{SKU: "A", Quantity: 2, SearchID: "s1"}, &reservationItemRow{SKU: "B", Quantity: 3})
	}

	done, err := fast.holdStock(ctx, usual("r1"))
	if err != nil || !done {
		t.Fatalf("holdStock(a usual hold) = %v, %v; want done", done, err)
	}
	if _, _, err := slow.reserveInTx(ctx, usual("r1")); err != nil {
		t.Fatalf("reserveInTx(the same hold) = %v", err)
	}
	want := written(t, slow.db, "r1")
	if len(want) != 5 {
		t.Fatalf("the transaction wrote %q; want a reservation, two items and two movements", want)
	}
	if diff := cmp.Diff(want, written(t, fast.db, "r1")); diff != "" {
		t.Errorf("rows written (-transaction +hold_stock):\n%s", diff)
	}
	if got, want := stocks(t, fast.db), "A=8 B=7 C=1"; got != want {
		t.Errorf("stock after the hold = %s, want %s", got, want)
	}

	again := usual("r2")
	again.IdempotencyKey = "k-r1"
	for _, c := range []struct {
		name string
		r    *reservationRow
	}{
		{"the last unit of C", hold("last", &reservationItemRow{SKU: "A", Quantity: 1}, &reservationItemRow{SKU: "C", Quantity: 1})},
		{"more than B holds", hold("more", &reservationItemRow{SKU: "B", Quantity: 8})},
		{"a SKU that does not exist", hold("none", &reservationItemRow{SKU: "A", Quantity: 1}, &reservationItemRow{SKU: "Z", Quantity: 1})},
		{"a key already taken", again},
	} {
		done, err := fast.holdStock(ctx, c.r)
		if err != nil || done {
			t.Errorf("holdStock(%s) = %v, %v; want not done, no error", c.name, done, err)
		}
		if w := written(t, fast.db, c.r.ID); len(w) > 0 {
			t.Errorf("holdStock(%s) wrote %q; want nothing", c.name, w)
		}
	}
	if got, want := stocks(t, fast.db), "A=8 B=7 C=1"; got != want {
		t.Errorf("stock after holds left to the transaction = %s, want %s", got, want)
	}
}

// heldStore is a product store on a new PostgreSQL schema with one
// product: SKUs A and B hold 10 units each, C one.
func heldStore(t *testing.T) *store {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, "postgres", "product", Migrations)
	if _, err := Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO categories (slug, name) VALUES ('mugs', 'Mugs')",
		"INSERT INTO products (id, slug, title, category, status, price, currency, created_at, updated_at) VALUES ('p1', 'mug', 'Mug', 'mugs', 1, 900, 'USD', 1, 1)",
		"INSERT INTO variants (sku, product_id, position, price, currency, stock) VALUES ('A', 'p1', 0, 900, 'USD', 10), ('B', 'p1', 1, 900, 'USD', 10), ('C', 'p1', 2, 900, 'USD', 1)",
	} {
		if _, err := d.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return &store{db: d, changed: func(_ context.Context, _ bun.Tx, ids ...string) error {
		if len(ids) > 0 {
			t.Errorf("products %q went in or out of stock; no hold here takes the last unit", ids)
		}
		return nil
	}}
}

// written is what the hold with id wrote, as text, all but the movements'
// own ids.
func written(t *testing.T, d *bun.DB, id string) []string {
	t.Helper()
	var out []string
	ctx := context.Background()
	var res []reservationRow
	if err := d.NewSelect().Model(&res).Where("r.id = ?", id).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		out = append(out, fmt.Sprintf("reservation status=%d key=%s hash=%s expires=%d created=%d updated=%d",
			r.Status, r.IdempotencyKey, r.RequestHash, r.ExpiresAt, r.CreatedAt, r.UpdatedAt))
	}
	var items []reservationItemRow
	if err := d.NewSelect().Model(&items).Where("ri.reservation_id = ?", id).Order("sku").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		out = append(out, fmt.Sprintf("item %s×%d search=%q", it.SKU, it.Quantity, it.SearchID))
	}
	var moves []stockMovementRow
	if err := d.NewSelect().Model(&moves).Where("reason LIKE ?", "% "+id).Order("sku").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range moves {
		out = append(out, fmt.Sprintf("movement %s %+d %q after=%d at=%d actor=%s key=%v hash=%q",
			m.SKU, m.Delta, m.Reason, m.OnHandAfter, m.CreatedAt, m.Actor, m.IdempotencyKey, m.RequestHash))
	}
	return out
}

func stocks(t *testing.T, d *bun.DB) string {
	t.Helper()
	var vs []variantRow
	if err := d.NewSelect().Model(&vs).Column("sku", "stock").Order("sku").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", v.SKU, v.Stock)
	}
	return b.String()
}
