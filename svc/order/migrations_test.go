package order

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
)

// migrationsBefore is the service's migrations older than version.
func migrationsBefore(t *testing.T, version string) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(Migrations, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() >= version {
			continue
		}
		data, err := fs.ReadFile(Migrations, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = &fstest.MapFile{Data: data}
	}
	return out
}

// Carts made before their lines moved into the cart row keep every line,
// oldest first, with the search each came from; a cart without lines is
// empty, not null.
func TestCartLinesMoveIntoTheCartRow(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		d := dbtest.Open(t, engine, "order", migrationsBefore(t, "0003"))
		for _, q := range []string{
			`INSERT INTO carts (id, customer_id, discount_code, created_at, updated_at) VALUES ('full', 'user-1', 'SPRING', 1, 9)`,
			`INSERT INTO carts (id, token_hash, created_at, updated_at) VALUES ('empty', 'h', 1, 1)`,
			`INSERT INTO cart_lines (cart_id, sku, quantity, added_at, search_id) VALUES ('full', 'ZED', 2, 5, '')`,
			`INSERT INTO cart_lines (cart_id, sku, quantity, added_at, search_id) VALUES ('full', 'ROPE', 1, 7, 'search-1')`,
			`INSERT INTO cart_lines (cart_id, sku, quantity, added_at, search_id) VALUES ('full', 'AXE', 3, 5, '')`,
		} {
			if _, err := d.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		applied, err := db.Migrate(ctx, d, Migrations)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) == 0 || !strings.HasPrefix(applied[0], "0003_") {
			t.Fatalf("applied %v, want 0003 first", applied)
		}

		s := &store{db: d}
		full, err := s.customerCart(ctx, "user-1")
		if err != nil || full == nil {
			t.Fatalf("customerCart = %v, %v", full, err)
		}
		want := []*cartLine{
			{SKU: "AXE", Quantity: 3, AddedAt: 5},
			{SKU: "ZED", Quantity: 2, AddedAt: 5},
			{SKU: "ROPE", Quantity: 1, AddedAt: 7, SearchID: "search-1"},
		}
		if diff := cmp.Diff(want, full.Lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		if full.DiscountCode != "SPRING" || full.UpdatedAt != 9 {
			t.Errorf("cart = %+v, want its code and times kept", full)
		}
		empty, err := s.guestCart(ctx, "h")
		if err != nil {
			t.Fatal(err)
		}
		if empty.Lines == nil || len(empty.Lines) != 0 {
			t.Errorf("empty cart's lines = %#v, want []", empty.Lines)
		}
		if _, err := d.ExecContext(ctx, `SELECT 1 FROM cart_lines`); err == nil {
			t.Error("cart_lines still exists")
		}
	})
}
