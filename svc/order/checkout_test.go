package order_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/testworld"
	"github.com/emporiumhq/emporium/svc/order"
)

const (
	goodCard     = testworld.CardSucceeds
	declinedCard = testworld.CardDeclines
	card3DS      = testworld.CardRequires3DS
)

func pay(ctx context.Context, c clients, orderID, card, key string) (*orderv1.PayOrderResponse, error) {
	return c.checkout.PayOrder(ctx, &orderv1.PayOrderRequest{OrderId: orderID, PaymentMethod: card, IdempotencyKey: "payment-" + key})
}

// statuses is an order's history as from → to pairs.
func statuses(o *orderv1.Order) []string {
	var out []string
	for _, h := range o.GetHistory() {
		out = append(out, fmt.Sprintf("%s→%s", short(h.GetFrom()), short(h.GetTo())))
	}
	return out
}

func short(s orderv1.OrderStatus) string {
	if s == orderv1.OrderStatus_ORDER_STATUS_UNSPECIFIED {
		return "∅"
	}
	return s.String()[len("ORDER_STATUS_"):]
}

// waitStatus polls customer c's view of an order until it has status want.
func waitStatus(t *testing.T, c clients, id string, want orderv1.OrderStatus) *orderv1.Order {
	t.Helper()
	var o *orderv1.Order
	eventually(t, "order "+short(want), func() error {
		res, err := c.orders.GetOrder(context.Background(), &orderv1.GetOrderRequest{Id: id})
		if err != nil {
			return err
		}
		if o = res.GetOrder(); o.GetStatus() != want {
			return fmt.Errorf("status %s", short(o.GetStatus()))
		}
		return nil
	})
	return o
}

func TestCheckoutAndPayTakesStockOnceAndRecordsHistory(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{tax: "US-CA=7.25"}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "KETTLE", price: 2999, stock: 5, grams: 1200})
		me := e.customer(7)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "KETTLE", Quantity: 2}); err != nil {
			t.Fatal(err)
		}
		quote, err := me.cart.GetCart(ctx, &orderv1.GetCartRequest{ShipTo: destOf(home), ShippingRateId: "local:standard"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := me.checkout.Checkout(ctx, &orderv1.CheckoutRequest{
			ShippingAddress: home, ShippingRateId: "local:standard", IdempotencyKey: "kettle-1", ExpectedTotal: quote.GetCart().GetTotal(),
		})
		if err != nil {
			t.Fatal(err)
		}
		o := res.GetOrder()
		// 2 × 29.99 = 59.98 ships free; tax 7.25 % = 4.348 → 4.35.
		if o.GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PENDING_PAYMENT || o.GetTotal().GetAmount() != 5998+435 || o.GetTaxTotal().GetAmount() != 435 {
			t.Errorf("order = %s total %v tax %v; want pending payment, 64.33, 4.35", short(o.GetStatus()), o.GetTotal(), o.GetTaxTotal())
		}
		if res.GetPayment().GetAmount().GetAmount() != o.GetTotal().GetAmount() || res.GetPayment().GetStatus() != paymentv1.PaymentStatus_PAYMENT_STATUS_REQUIRES_PAYMENT_METHOD {
			t.Errorf("payment = %v; want one for the total, awaiting a card", res.GetPayment())
		}
		if got := e.stock(t, "KETTLE"); got != 3 {
			t.Errorf("stock while the order awaits payment = %d, want 3 (held)", got)
		}
		cart, err := me.cart.GetCart(ctx, &orderv1.GetCartRequest{})
		if err != nil || len(cart.GetCart().GetLines()) != 0 {
			t.Errorf("cart after checkout = %v, %v; want empty", cart, err)
		}

		paid, err := pay(ctx, me, o.GetId(), goodCard, "attempt-1")
		if err != nil {
			t.Fatal(err)
		}
		if paid.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
			t.Errorf("after a good card: %s, want paid", short(paid.GetOrder().GetStatus()))
		}
		// The payment service's own report arrives too, and changes nothing.
		time.Sleep(300 * time.Millisecond)
		got := waitStatus(t, me, o.GetId(), orderv1.OrderStatus_ORDER_STATUS_PAID)
		if diff := cmp.Diff([]string{"∅→PENDING_PAYMENT", "PENDING_PAYMENT→PAID"}, statuses(got)); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		if got := e.stock(t, "KETTLE"); got != 3 {
			t.Errorf("stock after payment = %d, want 3 (sold)", got)
		}
		again, err := pay(ctx, me, o.GetId(), goodCard, "attempt-2")
		if err != nil || again.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
			t.Errorf("paying a paid order = %v, %v; want it returned as it is", again, err)
		}
		mine, err := me.orders.ListMyOrders(ctx, &orderv1.ListMyOrdersRequest{})
		if err != nil || len(mine.GetOrders()) != 1 || mine.GetOrders()[0].GetId() != o.GetId() {
			t.Errorf("ListMyOrders = %v, %v; want the one order", mine, err)
		}
	})
}

func TestDeclinedCardCanBeRetriedAndChargesNothing(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "PEN", price: 800, stock: 5})
		me := e.customer(8)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "PEN", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		co, err := checkout(ctx, me, "pen-checkout")
		if err != nil {
			t.Fatal(err)
		}
		declined, err := pay(ctx, me, co.GetOrder().GetId(), declinedCard, "try-1")
		if err != nil {
			t.Fatal(err)
		}
		if declined.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PENDING_PAYMENT || declined.GetPayment().GetLastError() == "" {
			t.Errorf("declined = order %s, payment error %q; want still pending, with a reason", short(declined.GetOrder().GetStatus()), declined.GetPayment().GetLastError())
		}
		status, err := e.world.IntentStatus(ctx, declined.GetPayment().GetProviderPaymentId())
		if err != nil || status == testworld.IntentSucceeded {
			t.Errorf("provider intent after a decline = %v, %v; want nothing taken", status, err)
		}
		ok, err := pay(ctx, me, co.GetOrder().GetId(), goodCard, "try-2")
		if err != nil || ok.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
			t.Fatalf("retry with a good card = %v, %v; want paid", ok, err)
		}
		if again, err := pay(ctx, me, co.GetOrder().GetId(), goodCard, "try-3"); err != nil || again.GetPayment().GetStatus() != paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED {
			t.Errorf("paying a paid order again = %v, %v; want it as it is, charged once", again, err)
		}
	})
}

func TestCardNeedingAuthenticationIsPaidWhenTheProviderSaysSo(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "WATCH", price: 25000, stock: 1})
		me := e.customer(9)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "WATCH", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		co, err := checkout(ctx, me, "watch-checkout")
		if err != nil {
			t.Fatal(err)
		}
		res, err := pay(ctx, me, co.GetOrder().GetId(), card3DS, "try-1")
		if err != nil {
			t.Fatal(err)
		}
		next := res.GetPayment().GetNextActionUrl()
		if res.GetPayment().GetStatus() != paymentv1.PaymentStatus_PAYMENT_STATUS_REQUIRES_ACTION || next == "" {
			t.Fatalf("payment = %v; want requires_action with a URL", res.GetPayment())
		}
		// The shopper approves on the simulator's page, as in a browser.
		u, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"result": {"approve"}, "payment_intent": {u.Query().Get("payment_intent")}}
		resp, err := http.PostForm(e.url+u.Path+"?"+u.RawQuery, form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("approving on the 3-D Secure page: %s\n%s", resp.Status, body)
		}
		waitStatus(t, me, co.GetOrder().GetId(), orderv1.OrderStatus_ORDER_STATUS_PAID)
	})
}

func TestTheSameCheckoutFiftyTimesMakesOneOrderAndOnePayment(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "BOOK", price: 1200, stock: 100})
		me := e.customer(10)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "BOOK", Quantity: 3}); err != nil {
			t.Fatal(err)
		}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			orders   = map[string]bool{}
			payments = map[string]bool{}
			failures []error
		)
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := checkout(ctx, me, "same-key-for-all")
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failures = append(failures, err)
					return
				}
				orders[res.GetOrder().GetId()] = true
				payments[res.GetPayment().GetId()] = true
			}()
		}
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("%d of 50 retries failed, first: %v", len(failures), failures[0])
		}
		if len(orders) != 1 || len(payments) != 1 {
			t.Fatalf("50 retries made %d orders and %d payments; want 1 and 1", len(orders), len(payments))
		}
		if got := e.stock(t, "BOOK"); got != 97 {
			t.Errorf("stock = %d, want 97: one hold of 3", got)
		}
		list, err := e.staff.orders.ListOrders(ctx, &orderv1.ListOrdersRequest{CustomerId: "user-10"})
		if err != nil || len(list.GetOrders()) != 1 {
			t.Errorf("orders of the customer = %v, %v; want 1", list, err)
		}
		// The same key with another request is a mistake, said clearly.
		_, err = me.checkout.Checkout(ctx, &orderv1.CheckoutRequest{ShippingAddress: home, ShippingRateId: "local:express", IdempotencyKey: "same-key-for-all"})
		if code(err) != connect.CodeAlreadyExists {
			t.Errorf("same key, other shipping: %v, want already_exists", err)
		}
	})
}

func TestTwoHundredShoppersRaceForTheLastTenUnits(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "LAST", price: 5000, stock: 10})
		const shoppers = 200
		for i := range shoppers {
			if _, err := e.customer(i).cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "LAST", Quantity: 1}); err != nil {
				t.Fatal(err)
			}
		}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			paid     int
			soldOut  int
			unwanted []error
		)
		for i := range shoppers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := e.customer(i)
				co, err := checkout(ctx, c, fmt.Sprintf("race-key-%03d", i))
				if err == nil {
					var res *orderv1.PayOrderResponse
					res, err = pay(ctx, c, co.GetOrder().GetId(), goodCard, "pay")
					if err == nil && res.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
						err = fmt.Errorf("order %s after payment", short(res.GetOrder().GetStatus()))
					}
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					paid++
				case code(err) == connect.CodeFailedPrecondition:
					soldOut++
				default:
					unwanted = append(unwanted, err)
				}
			}()
		}
		wg.Wait()
		if len(unwanted) > 0 {
			t.Fatalf("%d checkouts failed for other reasons than sold out, first: %v", len(unwanted), unwanted[0])
		}
		if paid != 10 || soldOut != shoppers-10 {
			t.Errorf("paid %d, sold out %d; want 10 and %d", paid, soldOut, shoppers-10)
		}
		list, err := e.staff.orders.ListOrders(ctx, &orderv1.ListOrdersRequest{PageSize: 100, Statuses: []orderv1.OrderStatus{orderv1.OrderStatus_ORDER_STATUS_PAID}})
		if err != nil || len(list.GetOrders()) != 10 {
			t.Errorf("paid orders listed = %d, %v; want 10", len(list.GetOrders()), err)
		}
		if got := e.stock(t, "LAST"); got != 0 {
			t.Errorf("stock = %d, want 0", got)
		}
	})
}

func TestUnpaidOrdersExpireAndReleaseTheirStock(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{paymentWindow: 2 * time.Second}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "PLANT", price: 1800, stock: 4})
		me := e.customer(11)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "PLANT", Quantity: 3}); err != nil {
			t.Fatal(err)
		}
		co, err := checkout(ctx, me, "plant-checkout")
		if err != nil {
			t.Fatal(err)
		}
		if got := e.stock(t, "PLANT"); got != 1 {
			t.Fatalf("stock while held = %d, want 1", got)
		}
		o := waitStatus(t, me, co.GetOrder().GetId(), orderv1.OrderStatus_ORDER_STATUS_CANCELED)
		if diff := cmp.Diff([]string{"∅→PENDING_PAYMENT", "PENDING_PAYMENT→CANCELED"}, statuses(o)); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		if h := o.GetHistory()[1]; h.GetReason() != "not paid in time" || h.GetActor() != "system" {
			t.Errorf("cancellation = %q by %q; want \"not paid in time\" by system", h.GetReason(), h.GetActor())
		}
		eventually(t, "stock back", func() error {
			if got := e.stock(t, "PLANT"); got != 4 {
				return fmt.Errorf("stock %d", got)
			}
			return nil
		})
		status, err := e.world.IntentStatus(ctx, co.GetPayment().GetProviderPaymentId())
		if err != nil || status != testworld.IntentCanceled {
			t.Errorf("provider intent = %v, %v; want canceled", status, err)
		}
		if _, err := pay(ctx, me, o.GetId(), goodCard, "too-late"); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("paying an expired order: %v, want failed_precondition", err)
		}
	})
}

func TestOrdersBelongToTheirCustomerAndOnlyStaffRefund(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "DESK", price: 30000, stock: 5, grams: 20000})
		alice, mallory := e.customer(20), e.customer(21)
		if _, err := alice.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "DESK", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		co, err := checkout(ctx, alice, "desk-checkout")
		if err != nil {
			t.Fatal(err)
		}
		id := co.GetOrder().GetId()
		if _, err := pay(ctx, alice, id, goodCard, "pay"); err != nil {
			t.Fatal(err)
		}
		total := co.GetOrder().GetTotal().GetAmount()

		if _, err := mallory.orders.GetOrder(ctx, &orderv1.GetOrderRequest{Id: id}); code(err) != connect.CodeNotFound {
			t.Errorf("another customer reading the order: %v, want not_found", err)
		}
		if _, err := mallory.orders.CancelOrder(ctx, &orderv1.CancelOrderRequest{Id: id}); code(err) != connect.CodeNotFound {
			t.Errorf("another customer canceling the order: %v, want not_found", err)
		}
		if _, err := pay(ctx, mallory, id, goodCard, "mallory-pays"); code(err) != connect.CodeNotFound {
			t.Errorf("another customer paying the order: %v, want not_found", err)
		}
		refund := &orderv1.RefundOrderRequest{Id: id, IdempotencyKey: "refund-part-1", Amount: ptr(int64(5000)), Reason: "scratched"}
		for _, c := range []clients{alice, mallory} {
			if _, err := c.orders.RefundOrder(ctx, refund); code(err) != connect.CodePermissionDenied {
				t.Errorf("a customer refunding: %v, want permission_denied", err)
			}
		}
		if _, err := e.anon.orders.GetOrder(ctx, &orderv1.GetOrderRequest{Id: id}); code(err) != connect.CodeUnauthenticated {
			t.Errorf("anonymous reading an order: %v, want unauthenticated", err)
		}
		if _, err := alice.orders.ApplyPaymentEvent(ctx, &orderv1.ApplyPaymentEventRequest{Event: &paymentv1.PaymentEvent{EventId: "forged", Payment: &paymentv1.Payment{OrderId: id}}}); code(err) != connect.CodePermissionDenied {
			t.Errorf("a customer forging a payment event: %v, want permission_denied", err)
		}

		// Staff refund in two parts; the same key twice refunds once.
		for range 2 {
			res, err := e.staff.orders.RefundOrder(ctx, refund)
			if err != nil {
				t.Fatal(err)
			}
			if o := res.GetOrder(); o.GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PARTIALLY_REFUNDED || o.GetRefundedTotal().GetAmount() != 5000 {
				t.Errorf("after a 50.00 refund: %s, refunded %v", short(o.GetStatus()), o.GetRefundedTotal())
			}
		}
		if _, err := e.staff.orders.RefundOrder(ctx, &orderv1.RefundOrderRequest{Id: id, IdempotencyKey: "refund-too-much", Amount: ptr(total)}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("refunding more than is left: %v, want failed_precondition", err)
		}
		rest, err := e.staff.orders.RefundOrder(ctx, &orderv1.RefundOrderRequest{Id: id, IdempotencyKey: "refund-rest"})
		if err != nil {
			t.Fatal(err)
		}
		if o := rest.GetOrder(); o.GetStatus() != orderv1.OrderStatus_ORDER_STATUS_REFUNDED || o.GetRefundedTotal().GetAmount() != total {
			t.Errorf("after refunding the rest: %s, refunded %v of %d", short(o.GetStatus()), o.GetRefundedTotal(), total)
		}
		if _, err := alice.orders.CancelOrder(ctx, &orderv1.CancelOrderRequest{Id: id}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("canceling a refunded order: %v, want failed_precondition", err)
		}
	})
}

func TestCancelingAPaidOrderRefundsItAndReturnsTheStock(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "CHAIR", price: 9000, stock: 3})
		me := e.customer(30)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "CHAIR", Quantity: 2}); err != nil {
			t.Fatal(err)
		}
		co, err := checkout(ctx, me, "chair-checkout")
		if err != nil {
			t.Fatal(err)
		}
		id := co.GetOrder().GetId()
		if _, err := pay(ctx, me, id, goodCard, "pay"); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			res, err := me.orders.CancelOrder(ctx, &orderv1.CancelOrderRequest{Id: id})
			if err != nil || res.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_CANCELED {
				t.Fatalf("cancel = %v, %v; want canceled, twice", res, err)
			}
		}
		o := co.GetOrder()
		eventually(t, "refund and stock", func() error {
			got, err := me.orders.GetOrder(ctx, &orderv1.GetOrderRequest{Id: id})
			if err != nil {
				return err
			}
			if r := got.GetOrder().GetRefundedTotal().GetAmount(); r != o.GetTotal().GetAmount() {
				return fmt.Errorf("refunded %d of %d", r, o.GetTotal().GetAmount())
			}
			if s := e.stock(t, "CHAIR"); s != 3 {
				return fmt.Errorf("stock %d", s)
			}
			return nil
		})
		// A paid order being fulfilled is staff's to cancel.
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "CHAIR", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		co2, err := checkout(ctx, me, "chair-checkout-2")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pay(ctx, me, co2.GetOrder().GetId(), goodCard, "pay"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.staff.orders.UpdateFulfillment(ctx, &orderv1.UpdateFulfillmentRequest{Id: co2.GetOrder().GetId(), Status: orderv1.OrderStatus_ORDER_STATUS_FULFILLING, EventId: "pack-1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := me.orders.CancelOrder(ctx, &orderv1.CancelOrderRequest{Id: co2.GetOrder().GetId()}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("a customer canceling an order being packed: %v, want failed_precondition", err)
		}
		if _, err := e.staff.orders.UpdateFulfillment(ctx, &orderv1.UpdateFulfillmentRequest{Id: co2.GetOrder().GetId(), Status: orderv1.OrderStatus_ORDER_STATUS_DELIVERED}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("delivered before shipped: %v, want failed_precondition", err)
		}
		for _, st := range []orderv1.OrderStatus{orderv1.OrderStatus_ORDER_STATUS_SHIPPED, orderv1.OrderStatus_ORDER_STATUS_DELIVERED} {
			if _, err := e.staff.orders.UpdateFulfillment(ctx, &orderv1.UpdateFulfillmentRequest{Id: co2.GetOrder().GetId(), Status: st}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := e.staff.orders.GetOrder(ctx, &orderv1.GetOrderRequest{Id: co2.GetOrder().GetId()})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"∅→PENDING_PAYMENT", "PENDING_PAYMENT→PAID", "PAID→FULFILLING", "FULFILLING→SHIPPED", "SHIPPED→DELIVERED"}
		if diff := cmp.Diff(want, statuses(got.GetOrder())); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		if _, err := e.inventory.GetStock(ctx, &productv1.GetStockRequest{Skus: []string{"CHAIR"}}); err != nil {
			t.Fatal(err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestACheckoutRetriedAfterItsHoldWasReleasedHoldsStockAgain(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "VASE", price: 3000, stock: 5})
		me := e.customer(50)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "VASE", Quantity: 2}); err != nil {
			t.Fatal(err)
		}
		// A first attempt held the stock and then failed (or crashed and
		// waited past the hold's expiry): its hold is released.
		items := []*productv1.ReservationItem{{Sku: "VASE", Quantity: 2}}
		held, err := e.internalInv.ReserveStock(ctx, &productv1.ReserveStockRequest{Items: items, TtlSeconds: 20 * 60, IdempotencyKey: order.HoldKey("user-50", "vase-checkout", items)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.internalInv.ReleaseReservation(ctx, &productv1.ReleaseReservationRequest{Id: held.GetReservation().GetId()}); err != nil {
			t.Fatal(err)
		}
		// The retry holds stock again rather than reusing the dead hold, so
		// the paid order keeps its goods.
		co, err := checkout(ctx, me, "vase-checkout")
		if err != nil {
			t.Fatalf("retried checkout: %v", err)
		}
		if got := e.stock(t, "VASE"); got != 3 {
			t.Errorf("stock after the retry = %d, want 3 (held again)", got)
		}
		if res, err := pay(ctx, me, co.GetOrder().GetId(), goodCard, "vase-checkout"); err != nil || res.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
			t.Fatalf("pay = %v, %v; want paid", res, err)
		}
		// PayOrder committed the new hold before answering (a commit of the
		// dead one would have failed and left the work to a job that
		// cancels and refunds).
		if got := e.holdStatus(t, co.GetOrder().GetId()); got != productv1.ReservationStatus_RESERVATION_STATUS_COMMITTED {
			t.Errorf("the retry's hold after PayOrder: %v, want committed", got)
		}
		if got, err := me.orders.GetOrder(ctx, &orderv1.GetOrderRequest{Id: co.GetOrder().GetId()}); err != nil || got.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
			t.Errorf("order after its stock commit = %v, %v; want still paid (its hold was live)", got.GetOrder().GetStatus(), err)
		}
		if got := e.stock(t, "VASE"); got != 3 {
			t.Errorf("stock after the sale = %d, want 3", got)
		}
	})
}

// A card payment commits the order's stock hold before the order is marked
// paid, and a checkout queues no River job of its own: the order's expiry
// is the sweep's, and the hold is committed by whichever of PayOrder and
// the payment service's event comes first, not by a job.
func TestPayingCommitsTheHoldWithoutAJob(t *testing.T) {
	t.Parallel()
	forEachEngine(t, envOptions{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.seedCatalog(t, stockItem{sku: "LAMP", price: 4200, stock: 3})
		committed := func(t *testing.T, id string) {
			t.Helper()
			if got := e.holdStatus(t, id); got != productv1.ReservationStatus_RESERVATION_STATUS_COMMITTED {
				t.Errorf("the hold right after the order was paid: %v, want committed", got)
			}
		}

		// The usual way: PayOrder answers first.
		me := e.customer(31)
		if _, err := me.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "LAMP", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		co, err := checkout(ctx, me, "lamp-checkout")
		if err != nil {
			t.Fatal(err)
		}
		paidRes, err := pay(ctx, me, co.GetOrder().GetId(), goodCard, "lamp-checkout")
		if err != nil || paidRes.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
			t.Fatalf("PayOrder = %v, %v; want the order paid", paidRes.GetOrder().GetStatus(), err)
		}
		committed(t, co.GetOrder().GetId())

		// The payment's event overtakes PayOrder's answer: it commits the
		// hold the same way.
		other := e.customer(32)
		if _, err := other.cart.AddItem(ctx, &orderv1.AddItemRequest{Sku: "LAMP", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		co2, err := checkout(ctx, other, "lamp-checkout-2")
		if err != nil {
			t.Fatal(err)
		}
		succeeded := &paymentv1.Payment{
			Id: co2.GetPayment().GetId(), OrderId: co2.GetOrder().GetId(), Amount: co2.GetPayment().GetAmount(),
			Status: paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED,
		}
		ev, err := e.as(testworld.As(serviceToken)).orders.ApplyPaymentEvent(ctx, &orderv1.ApplyPaymentEventRequest{
			Event: &paymentv1.PaymentEvent{EventId: succeeded.GetId() + ":1", Payment: succeeded},
		})
		if err != nil || ev.GetOrder().GetStatus() != orderv1.OrderStatus_ORDER_STATUS_PAID {
			t.Fatalf("ApplyPaymentEvent(succeeded) = %v, %v; want the order paid", ev.GetOrder().GetStatus(), err)
		}
		committed(t, co2.GetOrder().GetId())

		var jobs []string
		if err := e.world.DB["order"].NewRaw("SELECT kind FROM river_job ORDER BY id").Scan(ctx, &jobs); err != nil {
			t.Fatal(err)
		}
		if len(jobs) > 0 {
			t.Errorf("the order service queued jobs %q for checkouts paid by card; want none", jobs)
		}
		if got := e.stock(t, "LAMP"); got != 1 {
			t.Errorf("stock = %d, want 1", got)
		}
	})
}
