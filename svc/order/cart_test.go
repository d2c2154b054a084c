package order_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

// lines is a cart's lines as sku → quantity.
func lines(c *orderv1.Cart) map[string]int64 {
	out := map[string]int64{}
	for _, l := range c.GetLines() {
		out[l.GetSku()] = l.GetQuantity()
	}
	return out
}

func TestGuestCartMergesIntoTheCustomersCartOnSignIn(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "MUG", price: 1500, stock: 20}, stockItem{sku: "TEE", price: 2500, stock: 20}, stockItem{sku: "CAP", price: 1000, stock: 2})

		added, err := e.anon.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "MUG", Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		token := added.GetCart().GetCartToken()
		if len(token) < 40 {
			t.Fatalf("guest cart token = %q, want a long secret", token)
		}
		for _, req := range []*orderv1.AddItemRequest{{CartToken: token, Sku: "MUG", Quantity: 2}, {CartToken: token, Sku: "TEE", Quantity: 1}} {
			if _, err := e.anon.cart.AddItem(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		got, err := e.anon.cart.GetCart(ctx, &orderv1.GetCartRequest{CartToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int64{"MUG": 3, "TEE": 1}, lines(got.GetCart())); diff != "" {
			t.Errorf("guest cart (-want +got):\n%s", diff)
		}
		if got.GetCart().GetSubtotal().GetAmount() != 3*1500+2500 || got.GetCart().GetItemCount() != 4 || !got.GetCart().GetReady() {
			t.Errorf("guest cart = subtotal %v, items %d, ready %v; want 7000, 4, true", got.GetCart().GetSubtotal(), got.GetCart().GetItemCount(), got.GetCart().GetReady())
		}
		if got.GetCart().GetCartToken() != "" {
			t.Errorf("GetCart repeats the token: it is only handed out once")
		}

		// More than the stock, unknown SKUs and strangers' tokens are refused.
		if _, err := e.anon.cart.AddItem(ctx, &orderv1.AddItemRequest{CartToken: token, Sku: "CAP", Quantity: 3}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("adding 3 of 2 in stock: %v, want failed_precondition", err)
		}
		if _, err := e.anon.cart.AddItem(ctx, &orderv1.AddItemRequest{CartToken: token, Sku: "NOPE", Quantity: 1}); code(err) != connect.CodeNotFound {
			t.Errorf("adding an unknown SKU: %v, want not_found", err)
		}
		if _, err := e.anon.cart.GetCart(ctx, &orderv1.GetCartRequest{CartToken: "not-a-real-token"}); code(err) != connect.CodeNotFound {
			t.Errorf("an unknown cart token: %v, want not_found", err)
		}

		// The customer already has a cart with a MUG; signing in merges.
		me := e.customer(1)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "MUG", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // idempotent
			merged, err := me.cart.MergeCart(ctx, &orderv1.MergeCartRequest{CartToken: token})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]int64{"MUG": 4, "TEE": 1}, lines(merged.GetCart())); diff != "" {
				t.Errorf("merged cart (-want +got):\n%s", diff)
			}
		}
		if _, err := e.anon.cart.GetCart(ctx, &orderv1.GetCartRequest{CartToken: token}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("using a merged guest cart: %v, want failed_precondition", err)
		}
		if _, err := e.customer(2).cart.MergeCart(ctx, &orderv1.MergeCartRequest{CartToken: token}); code(err) != connect.CodeNotFound {
			t.Errorf("another customer merging the same guest cart: %v, want not_found", err)
		}
		if _, err := e.anon.cart.MergeCart(ctx, &orderv1.MergeCartRequest{CartToken: token}); code(err) != connect.CodeUnauthenticated {
			t.Errorf("merging without signing in: %v, want unauthenticated", err)
		}

		// Update and remove; quantity 0 removes.
		if _, err := me.cart.UpdateItem(ctx, &orderv1.UpdateItemRequest{Sku: "MUG", Quantity: 2}); err != nil {
			t.Fatal(err)
		}
		res, err := me.cart.RemoveItem(ctx, &orderv1.RemoveItemRequest{Sku: "TEE"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int64{"MUG": 2}, lines(res.GetCart())); diff != "" {
			t.Errorf("after update and remove (-want +got):\n%s", diff)
		}
	})
}

func TestCartPricesComeFromTheCatalogNotTheClient(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{tax: "US-CA=7.25,US=5"}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "LAMP", price: 4000, stock: 5, grams: 1500})
		me := e.customer(3)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "LAMP", Quantity: 2}); err != nil {
			t.Fatal(err)
		}
		// Staff lower the price: the cart follows at once.
		p, err := e.catalog.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "p-lamp"}})
		if err != nil {
			t.Fatal(err)
		}
		upd := &productv1.Product{Id: p.GetProduct().GetId(), Variants: []*productv1.Variant{{Sku: "LAMP", Title: "Standard", Price: usd(3500), WeightGrams: 1500}}}
		if _, err := e.catalog.UpdateProduct(ctx, &productv1.UpdateProductRequest{Product: upd, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"variants"}}}); err != nil {
			t.Fatal(err)
		}
		dest := &typev1.Destination{Country: "US", Region: "CA", PostalCode: "94105"}
		got, err := me.cart.GetCart(ctx, &orderv1.GetCartRequest{ShipTo: dest, ShippingRateId: "local:standard"})
		if err != nil {
			t.Fatal(err)
		}
		c := got.GetCart()
		// 2 × 35.00 = 70.00 ≥ 50.00: standard ships free at home; CA tax
		// 7.25 % of 70.00 = 5.075 → 5.08 (half up).
		want := map[string]int64{"subtotal": 7000, "shipping": 0, "tax": 508, "total": 7508}
		gotTotals := map[string]int64{"subtotal": c.GetSubtotal().GetAmount(), "shipping": c.GetShippingTotal().GetAmount(), "tax": c.GetTaxTotal().GetAmount(), "total": c.GetTotal().GetAmount()}
		if diff := cmp.Diff(want, gotTotals); diff != "" {
			t.Errorf("totals (-want +got):\n%s", diff)
		}
		if len(c.GetShippingRates()) < 2 || c.GetShippingRates()[0].GetId() != "local:standard" {
			t.Errorf("shipping rates = %v; want standard first, then express", c.GetShippingRates())
		}
		// Another state falls back to the country's rate.
		ny, err := me.cart.GetCart(ctx, &orderv1.GetCartRequest{ShipTo: &typev1.Destination{Country: "US", Region: "NY"}})
		if err != nil || ny.GetCart().GetTaxTotal().GetAmount() != 350 {
			t.Errorf("NY tax = %v, %v; want 350 (US 5 %%)", ny.GetCart().GetTaxTotal(), err)
		}
		if _, err := me.cart.GetCart(ctx, &orderv1.GetCartRequest{ShipTo: dest, ShippingRateId: "local:teleport"}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("an unknown shipping option: %v, want invalid_argument", err)
		}
	})
}

func TestDiscountCodes(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "BAG", price: 2000, stock: 50})
		create := func(req *orderv1.CreateDiscountRequest) *orderv1.Discount {
			t.Helper()
			res, err := e.staff.discount.CreateDiscount(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			return res.GetDiscount()
		}
		create(&orderv1.CreateDiscountRequest{Code: "ten-off", Kind: orderv1.DiscountKind_DISCOUNT_KIND_PERCENT, PercentOff: 10})
		create(&orderv1.CreateDiscountRequest{Code: "FIVER", Kind: orderv1.DiscountKind_DISCOUNT_KIND_FIXED, AmountOff: usd(500), MinSubtotal: usd(5000)})
		once := create(&orderv1.CreateDiscountRequest{Code: "ONCE", Kind: orderv1.DiscountKind_DISCOUNT_KIND_FIXED, AmountOff: usd(300), MaxRedemptions: 1})
		create(&orderv1.CreateDiscountRequest{Code: "OLD", Kind: orderv1.DiscountKind_DISCOUNT_KIND_PERCENT, PercentOff: 50,
			StartTime: timestamppb.New(time.Now().Add(-48 * time.Hour)), EndTime: timestamppb.New(time.Now().Add(-24 * time.Hour))})

		if _, err := e.staff.discount.CreateDiscount(ctx, &orderv1.CreateDiscountRequest{Code: "TEN-OFF", Kind: orderv1.DiscountKind_DISCOUNT_KIND_PERCENT, PercentOff: 5}); code(err) != connect.CodeAlreadyExists {
			t.Errorf("a code differing only in case: %v, want already_exists", err)
		}
		if _, err := e.staff.discount.CreateDiscount(ctx, &orderv1.CreateDiscountRequest{Code: "BAD", Kind: orderv1.DiscountKind_DISCOUNT_KIND_PERCENT}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("a percent code without a percentage: %v, want invalid_argument", err)
		}
		if _, err := e.customer(1).discount.CreateDiscount(ctx, &orderv1.CreateDiscountRequest{Code: "MINE", Kind: orderv1.DiscountKind_DISCOUNT_KIND_PERCENT, PercentOff: 100}); code(err) != connect.CodePermissionDenied {
			t.Errorf("a customer creating a code: %v, want permission_denied", err)
		}

		me := e.customer(4)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "BAG", Quantity: 2}); err != nil {
			t.Fatal(err)
		}
		res, err := me.cart.ApplyDiscountCode(ctx, &orderv1.ApplyDiscountCodeRequest{Code: " ten-OFF "})
		if err != nil {
			t.Fatal(err)
		}
		if c := res.GetCart(); c.GetDiscountTotal().GetAmount() != 400 || c.GetTotal().GetAmount() != 3600 || c.GetDiscount().GetCode() != "TEN-OFF" {
			t.Errorf("10 %% off 40.00 = discount %v total %v code %q; want 4.00, 36.00, TEN-OFF", c.GetDiscountTotal(), c.GetTotal(), c.GetDiscount().GetCode())
		}
		res, err = me.cart.ApplyDiscountCode(ctx, &orderv1.ApplyDiscountCodeRequest{Code: "FIVER"})
		if err != nil {
			t.Fatal(err)
		}
		if d := res.GetCart().GetDiscount(); d.GetAmount().GetAmount() != 0 || d.GetIssue() != "Spend $50.00 to use this code" {
			t.Errorf("FIVER under its minimum = %v; want nothing off and the reason", d)
		}
		for code_, want := range map[string]string{"OLD": "This code has expired", "NOPE": "This code is not valid"} {
			_, err := me.cart.ApplyDiscountCode(ctx, &orderv1.ApplyDiscountCodeRequest{Code: code_})
			if code(err) != connect.CodeFailedPrecondition || !contains(err.Error(), want) {
				t.Errorf("code %s: %v, want failed_precondition %q", code_, err, want)
			}
		}

		// A code with one use: the first checkout takes it, the next cart
		// cannot.
		if _, err := me.cart.ApplyDiscountCode(ctx, &orderv1.ApplyDiscountCodeRequest{Code: "ONCE"}); err != nil {
			t.Fatal(err)
		}
		co, err := checkout(ctx, me, "once-checkout-1")
		if err != nil {
			t.Fatal(err)
		}
		if o := co.GetOrder(); o.GetDiscountCode() != "ONCE" || o.GetDiscountTotal().GetAmount() != 300 {
			t.Errorf("order discount = %q %v; want ONCE 3.00", o.GetDiscountCode(), o.GetDiscountTotal())
		}
		other := e.customer(5)
		if _, err := other.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "BAG", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := other.cart.ApplyDiscountCode(ctx, &orderv1.ApplyDiscountCodeRequest{Code: "ONCE"}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("a used-up code: %v, want failed_precondition", err)
		}
		// Canceling the order gives the use back.
		if _, err := me.orders.CancelOrder(ctx, &orderv1.CancelOrderRequest{Id: co.GetOrder().GetId()}); err != nil {
			t.Fatal(err)
		}
		list, err := e.staff.discount.ListDiscounts(ctx, &orderv1.ListDiscountsRequest{PageSize: 2})
		if err != nil || len(list.GetDiscounts()) != 2 || list.GetNextPageToken() == "" {
			t.Fatalf("first page = %v, %v; want 2 and a next page", list, err)
		}
		rest, err := e.staff.discount.ListDiscounts(ctx, &orderv1.ListDiscountsRequest{PageSize: 2, PageToken: list.GetNextPageToken()})
		if err != nil || len(rest.GetDiscounts()) != 2 || rest.GetNextPageToken() != "" {
			t.Fatalf("second page = %v, %v; want the last 2", rest, err)
		}
		for _, d := range append(list.GetDiscounts(), rest.GetDiscounts()...) {
			if d.GetId() == once.GetId() && d.GetRedemptions() != 0 {
				t.Errorf("ONCE redemptions after the order was canceled = %d, want 0", d.GetRedemptions())
			}
		}
		if _, err := other.cart.ApplyDiscountCode(ctx, &orderv1.ApplyDiscountCodeRequest{Code: "ONCE"}); err != nil {
			t.Errorf("the code after its order was canceled: %v, want it usable again", err)
		}
		off := false
		if _, err := e.staff.discount.UpdateDiscount(ctx, &orderv1.UpdateDiscountRequest{Id: once.GetId(), Active: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := other.checkout.Checkout(ctx, &orderv1.CheckoutRequest{ShippingAddress: home, ShippingRateId: "local:standard", IdempotencyKey: "other-checkout"}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("checking out with a code turned off since: %v, want failed_precondition", err)
		}
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// Items come and go in a cart with a discount code: each change is priced
// with the code, in the change's transaction, after the catalog was asked.
func TestACartWithADiscountCodeTakesMoreItems(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		e.seedCatalog(t, stockItem{sku: "MUG", price: 1500, stock: 10}, stockItem{sku: "CAP", price: 1000, stock: 10})
		if _, err := e.staff.discount.CreateDiscount(ctx, &orderv1.CreateDiscountRequest{Code: "TENTH", Kind: orderv1.DiscountKind_DISCOUNT_KIND_PERCENT, PercentOff: 10}); err != nil {
			t.Fatal(err)
		}
		me := e.customer(6)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "MUG", Quantity: 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := me.cart.ApplyDiscountCode(ctx, &orderv1.ApplyDiscountCodeRequest{Code: "TENTH"}); err != nil {
			t.Fatal(err)
		}
		added, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "CAP", Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		if c := added.GetCart(); c.GetDiscountTotal().GetAmount() != 400 || c.GetTotal().GetAmount() != 3600 {
			t.Errorf("10 %% off 40.00 after adding = discount %v total %v; want 4.00, 36.00", c.GetDiscountTotal(), c.GetTotal())
		}
		updated, err := me.cart.UpdateItem(ctx, &orderv1.UpdateItemRequest{Sku: "MUG", Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		if c := updated.GetCart(); c.GetTotal().GetAmount() != 2250 {
			t.Errorf("10 %% off 25.00 after updating = total %v; want 22.50", c.GetTotal())
		}
		removed, err := me.cart.RemoveItem(ctx, &orderv1.RemoveItemRequest{Sku: "CAP"})
		if err != nil {
			t.Fatal(err)
		}
		if c := removed.GetCart(); c.GetTotal().GetAmount() != 1350 || len(c.GetLines()) != 1 {
			t.Errorf("10 %% off 15.00 after removing = total %v, %d lines; want 13.50, 1 line", c.GetTotal(), len(c.GetLines()))
		}
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "CAP", Quantity: 11}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("adding more than the stock: %v, want failed_precondition", err)
		}
		got, err := me.cart.GetCart(ctx, &orderv1.GetCartRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int64{"MUG": 1}, lines(got.GetCart())); diff != "" {
			t.Errorf("lines after a refused add (-want +got):\n%s", diff)
		}
	})
}

// One shopper adding many items at once (several tabs) loses none: each
// addition, priced before its transaction, notices the others that
// committed meanwhile and prices them too.
func TestConcurrentAdditionsToOneCartAllStay(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		skus := []string{"A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"}
		var items []stockItem
		for _, sku := range skus {
			items = append(items, stockItem{sku: sku, price: 500, stock: 50})
		}
		e.seedCatalog(t, items...)
		me := e.customer(7)
		errc := make(chan error, len(skus))
		for _, sku := range skus {
			go func() {
				res, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: sku, Quantity: 1})
				if err == nil && !res.GetCart().GetReady() {
					err = fmt.Errorf("adding %s: the cart is not ready: %v", sku, res.GetCart().GetLines())
				}
				errc <- err
			}()
		}
		for range skus {
			if err := <-errc; err != nil {
				t.Errorf("AddItem: %v", err)
			}
		}
		got, err := me.cart.GetCart(ctx, &orderv1.GetCartRequest{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		for _, sku := range skus {
			want[sku] = 1
		}
		if diff := cmp.Diff(want, lines(got.GetCart())); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		if c := got.GetCart(); c.GetTotal().GetAmount() != 4000 {
			t.Errorf("total = %v, want 40.00", c.GetTotal())
		}
	})
}

// An item added while the cart is being checked out is never lost: it is
// in the order, or still in the cart, or the checkout fails and asks the
// shopper to review the cart (which keeps it).
func TestAnItemAddedDuringCheckoutIsNeverLost(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "BASE", price: 500, stock: 100}, stockItem{sku: "LATE", price: 700, stock: 100})
		outcomes := map[string]int{}
		for i := range 12 {
			me := e.customer(400 + i)
			if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "BASE", Quantity: 1}); err != nil {
				t.Fatal(err)
			}
			added := make(chan error, 1)
			go func() {
				_, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "LATE", Quantity: 1})
				added <- err
			}()
			res, err := checkout(ctx, me, fmt.Sprintf("late-checkout-%d", i))
			if err := <-added; err != nil {
				t.Fatalf("AddItem: %v", err)
			}
			cart, cerr := me.cart.GetCart(ctx, &orderv1.GetCartRequest{})
			if cerr != nil {
				t.Fatal(cerr)
			}
			inCart := lines(cart.GetCart())
			inOrder := map[string]int64{}
			for _, l := range res.GetOrder().GetLines() {
				inOrder[l.GetSku()] = l.GetQuantity()
			}
			switch {
			case err != nil && code(err) == connect.CodeFailedPrecondition && inCart["BASE"] == 1 && inCart["LATE"] == 1:
				outcomes["checkout refused, both in the cart"]++
			case err == nil && inOrder["BASE"] == 1 && inOrder["LATE"] == 1 && len(inCart) == 0:
				outcomes["both in the order"]++
			case err == nil && inOrder["BASE"] == 1 && inOrder["LATE"] == 0 && inCart["LATE"] == 1 && len(inCart) == 1:
				outcomes["added after the order"]++
			default:
				t.Fatalf("round %d: checkout %v (order %v), cart %v: an item was lost or doubled", i, err, inOrder, inCart)
			}
		}
		t.Logf("outcomes: %v", outcomes)
	})
}

// Adding one item to one cart from many requests at once counts every
// addition: none overwrites another's quantity.
func TestConcurrentAdditionsOfOneItemAllCount(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "SAME", price: 500, stock: 50})
		me := e.customer(8)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "SAME", Quantity: 1}); err != nil {
			t.Fatal(err) // the cart exists before the race
		}
		const adds = 8
		errc := make(chan error, adds)
		for range adds {
			go func() {
				_, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "SAME", Quantity: 1})
				errc <- err
			}()
		}
		for range adds {
			if err := <-errc; err != nil {
				t.Errorf("AddItem: %v", err)
			}
		}
		got, err := me.cart.GetCart(ctx, &orderv1.GetCartRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int64{"SAME": adds + 1}, lines(got.GetCart())); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
	})
}
