package product_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
)

func (e *env) onHand(t *testing.T, skus ...string) []int64 {
	t.Helper()
	res, err := e.anonInv.GetStock(context.Background(), &productv1.GetStockRequest{Skus: skus})
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, l := range res.GetLevels() {
		out = append(out, l.GetOnHand())
	}
	return out
}

func hold(items ...*productv1.ReservationItem) []*productv1.ReservationItem { return items }

func item(sku string, n int64) *productv1.ReservationItem {
	return &productv1.ReservationItem{Sku: sku, Quantity: n}
}

func TestReservationsNeverOversell(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3) // SKU-001-A holds 5
		ctx := context.Background()
		const shoppers = 40
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			ok, sold int
			other    []error
		)
		for i := range shoppers {
			wg.Go(func() {
				_, err := e.internal.ReserveStock(ctx, &productv1.ReserveStockRequest{
					Items: hold(item("SKU-001-A", 1)), IdempotencyKey: fmt.Sprintf("checkout-%d", i)})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case code(err) == connect.CodeFailedPrecondition:
					sold++
				default:
					other = append(other, err)
				}
			})
		}
		wg.Wait()
		if ok != 5 || sold != shoppers-5 || len(other) > 0 {
			t.Fatalf("held %d, sold out %d, other errors %v; want 5, %d, none", ok, sold, other, shoppers-5)
		}
		if diff := cmp.Diff([]int64{0}, e.onHand(t, "SKU-001-A")); diff != "" {
			t.Errorf("stock after the rush (-want +got):\n%s", diff)
		}
	})
}

// Retries of one hold sent at once (a checkout retried by an impatient
// client) all answer with the one hold, and take the stock once.
func TestConcurrentRetriesOfAHoldShareIt(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3) // SKU-001-A holds 5
		ctx := context.Background()
		req := &productv1.ReserveStockRequest{Items: hold(item("SKU-001-A", 2)), IdempotencyKey: "checkout-retried"}
		const retries = 20
		ids := make([]string, retries)
		failures := make([]error, retries)
		var wg sync.WaitGroup
		for i := range retries {
			wg.Go(func() {
				res, err := e.internal.ReserveStock(ctx, req)
				ids[i], failures[i] = res.GetReservation().GetId(), err
			})
		}
		wg.Wait()
		for i := range retries {
			if failures[i] != nil || ids[i] == "" || ids[i] != ids[0] {
				t.Fatalf("retry %d = %q, %v; want hold %q", i, ids[i], failures[i], ids[0])
			}
		}
		if diff := cmp.Diff([]int64{3}, e.onHand(t, "SKU-001-A")); diff != "" {
			t.Errorf("stock after the retries (-want +got):\n%s", diff)
		}
	})
}

func TestReservationIsAllOrNothing(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3) // SKU-001-A and -B hold 5, SKU-000-A is out of stock
		_, err := e.internal.ReserveStock(context.Background(), &productv1.ReserveStockRequest{
			Items: hold(item("SKU-001-A", 2), item("SKU-001-B", 1), item("SKU-000-A", 1)), IdempotencyKey: "mixed"})
		if code(err) != connect.CodeFailedPrecondition {
			t.Fatalf("reserving an out-of-stock item: %v, want failed_precondition", err)
		}
		if diff := cmp.Diff([]int64{5, 5, 0}, e.onHand(t, "SKU-001-A", "SKU-001-B", "SKU-000-A")); diff != "" {
			t.Errorf("stock after a refused reservation (-want +got):\n%s", diff)
		}
		for _, tt := range []struct {
			req  *productv1.ReserveStockRequest
			want connect.Code
		}{
			{&productv1.ReserveStockRequest{Items: hold(item("NOPE", 1)), IdempotencyKey: "k1"}, connect.CodeNotFound},
			{&productv1.ReserveStockRequest{Items: hold(item("SKU-001-A", 1), item("SKU-001-A", 1)), IdempotencyKey: "k2"}, connect.CodeInvalidArgument},
			{&productv1.ReserveStockRequest{Items: hold(item("SKU-001-A", 0)), IdempotencyKey: "k3"}, connect.CodeInvalidArgument},
			{&productv1.ReserveStockRequest{Items: hold(item("SKU-001-A", 1))}, connect.CodeInvalidArgument},
		} {
			if _, err := e.internal.ReserveStock(context.Background(), tt.req); code(err) != tt.want {
				t.Errorf("ReserveStock(%v) = %v, want %v", tt.req, err, tt.want)
			}
		}
	})
}

func TestReservationLifecycle(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3)
		ctx := context.Background()
		req := &productv1.ReserveStockRequest{Items: hold(item("SKU-001-A", 2), item("SKU-001-B", 1)), IdempotencyKey: "order-1"}
		first, err := e.internal.ReserveStock(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.internal.ReserveStock(ctx, req)
		if err != nil || again.GetReservation().GetId() != first.GetReservation().GetId() {
			t.Fatalf("retried reservation = %v, %v; want the first one", again, err)
		}
		if diff := cmp.Diff([]int64{3, 4}, e.onHand(t, "SKU-001-A", "SKU-001-B")); diff != "" {
			t.Errorf("stock while held, retry included (-want +got):\n%s", diff)
		}
		other := &productv1.ReserveStockRequest{Items: hold(item("SKU-001-A", 1)), IdempotencyKey: "order-1"}
		if _, err := e.internal.ReserveStock(ctx, other); code(err) != connect.CodeAlreadyExists {
			t.Errorf("same key, other items: %v, want already_exists", err)
		}
		id := first.GetReservation().GetId()
		for range 2 {
			res, err := e.internal.CommitReservation(ctx, &productv1.CommitReservationRequest{Id: id})
			if err != nil || res.GetReservation().GetStatus() != productv1.ReservationStatus_RESERVATION_STATUS_COMMITTED {
				t.Fatalf("commit = %v, %v", res, err)
			}
			if diff := cmp.Diff(first.GetReservation().GetItems(), res.GetReservation().GetItems(), protocmp.Transform(),
				protocmp.SortRepeated(func(a, b *productv1.ReservationItem) bool { return a.GetSku() < b.GetSku() })); diff != "" {
				t.Errorf("committed reservation's items (-held +committed):\n%s", diff)
			}
		}
		if _, err := e.internal.ReleaseReservation(ctx, &productv1.ReleaseReservationRequest{Id: id}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("releasing a committed reservation: %v, want failed_precondition", err)
		}
		if diff := cmp.Diff([]int64{3, 4}, e.onHand(t, "SKU-001-A", "SKU-001-B")); diff != "" {
			t.Errorf("stock after commit (-want +got):\n%s", diff)
		}

		abandoned, err := e.internal.ReserveStock(ctx, &productv1.ReserveStockRequest{
			Items: hold(item("SKU-001-A", 3), item("SKU-001-B", 4)), IdempotencyKey: "order-2"})
		if err != nil {
			t.Fatal(err)
		}
		id = abandoned.GetReservation().GetId()
		// Holding the last units takes the product out of stock in listings.
		inStock, err := e.anon.ListProducts(ctx, &productv1.ListProductsRequest{InStockOnly: true, Category: "sneakers"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{}, slugs(inStock.GetProducts())); diff != "" {
			t.Errorf("in-stock sneakers while every unit is held (-want +got):\n%s", diff)
		}
		for range 2 {
			if _, err := e.internal.ReleaseReservation(ctx, &productv1.ReleaseReservationRequest{Id: id}); err != nil {
				t.Fatalf("release: %v", err)
			}
		}
		if _, err := e.internal.CommitReservation(ctx, &productv1.CommitReservationRequest{Id: id}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("committing a released reservation: %v, want failed_precondition", err)
		}
		if diff := cmp.Diff([]int64{3, 4}, e.onHand(t, "SKU-001-A", "SKU-001-B")); diff != "" {
			t.Errorf("stock after release (-want +got):\n%s", diff)
		}
		if _, err := e.internal.CommitReservation(ctx, &productv1.CommitReservationRequest{Id: "nope"}); code(err) != connect.CodeNotFound {
			t.Errorf("committing an unknown reservation: %v, want not_found", err)
		}
	})
}

func TestExpiredHoldsReturnTheirStock(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3)
		ctx := context.Background()
		swept, err := e.internal.ReserveStock(ctx, &productv1.ReserveStockRequest{Items: hold(item("SKU-001-A", 2)), TtlSeconds: 60, IdempotencyKey: "a"})
		if err != nil {
			t.Fatal(err)
		}
		late, err := e.internal.ReserveStock(ctx, &productv1.ReserveStockRequest{Items: hold(item("SKU-001-B", 1)), TtlSeconds: 120, IdempotencyKey: "b"})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(61 * time.Second)
		n, err := e.svc.ExpireReservations(ctx)
		if err != nil || n != 1 {
			t.Fatalf("ExpireReservations = %d, %v; want the one past its hour", n, err)
		}
		if diff := cmp.Diff([]int64{5, 4}, e.onHand(t, "SKU-001-A", "SKU-001-B")); diff != "" {
			t.Errorf("stock after the sweep (-want +got):\n%s", diff)
		}
		if _, err := e.internal.CommitReservation(ctx, &productv1.CommitReservationRequest{Id: swept.GetReservation().GetId()}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("committing a swept hold: %v, want failed_precondition", err)
		}
		// A hold past expiry that no sweep reached yet cannot be committed
		// either, and committing it gives its stock back.
		e.clock.Advance(60 * time.Second)
		if _, err := e.internal.CommitReservation(ctx, &productv1.CommitReservationRequest{Id: late.GetReservation().GetId()}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("committing an expired hold: %v, want failed_precondition", err)
		}
		if diff := cmp.Diff([]int64{5, 5}, e.onHand(t, "SKU-001-A", "SKU-001-B")); diff != "" {
			t.Errorf("stock after a late commit (-want +got):\n%s", diff)
		}
	})
}

func TestOnlyServicesReserveStock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 3)
	req := &productv1.ReserveStockRequest{Items: hold(item("SKU-001-A", 1)), IdempotencyKey: "x"}
	if _, err := e.inventory.ReserveStock(context.Background(), req); code(err) != connect.CodePermissionDenied {
		t.Errorf("staff reserving stock: %v, want permission_denied", err)
	}
	if _, err := e.anonInv.ReserveStock(context.Background(), req); code(err) != connect.CodeUnauthenticated {
		t.Errorf("anonymous reserving stock: %v, want unauthenticated", err)
	}
}

func TestReturnReservationPutsSoldUnitsBack(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3)
		ctx := context.Background()
		reserve := func(key string) string {
			t.Helper()
			res, err := e.internal.ReserveStock(ctx, &productv1.ReserveStockRequest{Items: hold(item("SKU-001-A", 2)), IdempotencyKey: key})
			if err != nil {
				t.Fatal(err)
			}
			return res.GetReservation().GetId()
		}
		held := reserve("order-held")
		if _, err := e.internal.ReturnReservation(ctx, &productv1.ReturnReservationRequest{Id: held}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("returning a held reservation: %v, want failed_precondition", err)
		}
		sold := reserve("order-sold")
		if _, err := e.internal.CommitReservation(ctx, &productv1.CommitReservationRequest{Id: sold}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{1}, e.onHand(t, "SKU-001-A")); diff != "" {
			t.Errorf("stock with one hold and one sale (-want +got):\n%s", diff)
		}
		for range 2 {
			res, err := e.internal.ReturnReservation(ctx, &productv1.ReturnReservationRequest{Id: sold})
			if err != nil || res.GetReservation().GetStatus() != productv1.ReservationStatus_RESERVATION_STATUS_RETURNED {
				t.Fatalf("return = %v, %v; want returned, twice", res, err)
			}
		}
		if diff := cmp.Diff([]int64{3}, e.onHand(t, "SKU-001-A")); diff != "" {
			t.Errorf("stock after the sale came back, once (-want +got):\n%s", diff)
		}
		if _, err := e.internal.ReleaseReservation(ctx, &productv1.ReleaseReservationRequest{Id: held}); err != nil {
			t.Fatal(err)
		}
		res, err := e.internal.ReturnReservation(ctx, &productv1.ReturnReservationRequest{Id: held})
		if err != nil || res.GetReservation().GetStatus() != productv1.ReservationStatus_RESERVATION_STATUS_RELEASED {
			t.Errorf("returning a released reservation = %v, %v; want it released, unchanged", res, err)
		}
		if diff := cmp.Diff([]int64{5}, e.onHand(t, "SKU-001-A")); diff != "" {
			t.Errorf("stock at the end (-want +got):\n%s", diff)
		}
		if _, err := e.inventory.ReturnReservation(ctx, &productv1.ReturnReservationRequest{Id: sold}); code(err) != connect.CodePermissionDenied {
			t.Errorf("staff returning stock by hand: %v, want permission_denied", err)
		}
	})
}
