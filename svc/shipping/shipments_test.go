package shipping_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

// ignoreGenerated leaves out what the service makes up: ids, times,
// tracking numbers and URLs, and events (checked on their own).
var ignoreGenerated = protocmp.IgnoreFields(&shippingv1.Shipment{},
	"id", "create_time", "update_time", "tracking_number", "tracking_url", "events")

func TestCreateShipmentForTheWholeOrder(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		o := w.paidOrder(t, 1, home, map[string]int64{"MUG": 2, "TEA": 1})
		res, err := w.create(ctx, o.GetId(), "ship-whole-1", map[string]int64{"MUG": 2, "TEA": 1})
		if err != nil {
			t.Fatal(err)
		}
		want := []*shippingv1.Shipment{{
			OrderId: o.GetId(), OrderNumber: o.GetNumber(), CustomerId: "user-1", Carrier: carrierName, Service: "ground",
			Status: shippingv1.ShipmentStatus_SHIPMENT_STATUS_LABEL_CREATED, WeightGrams: 1000,
			Items:     []*shippingv1.ShipmentItem{{Sku: "MUG", Quantity: 2}, {Sku: "TEA", Quantity: 1}},
			LabelCost: &typev1.Money{Amount: 850, Currency: "USD"},
		}}
		if diff := cmp.Diff(want, res.GetShipments(), protocmp.Transform(), ignoreGenerated); diff != "" {
			t.Errorf("shipments (-want +got):\n%s", diff)
		}
		sh := res.GetShipments()[0]
		if sh.GetTrackingNumber() == "" || sh.GetTrackingUrl() != "https://parcelco.example/track/"+sh.GetTrackingNumber() {
			t.Errorf("tracking number %q, url %q", sh.GetTrackingNumber(), sh.GetTrackingUrl())
		}
		label, err := w.staff.GetLabel(ctx, &shippingv1.GetLabelRequest{ShipmentId: sh.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if label.GetContentType() != "application/pdf" || string(label.GetContent()) != "%PDF-1.4 label "+sh.GetTrackingNumber() {
			t.Errorf("label = %q (%s)", label.GetContent(), label.GetContentType())
		}
		shipped := w.waitOrder(t, o.GetId(), orderv1.OrderStatus_ORDER_STATUS_SHIPPED)
		if diff := cmp.Diff([]string{"UNSPECIFIED→PENDING_PAYMENT", "PENDING_PAYMENT→PAID", "PAID→FULFILLING", "FULFILLING→SHIPPED"}, history(shipped)); diff != "" {
			t.Errorf("order history (-want +got):\n%s", diff)
		}
		// Everything has shipped: one more item is one too many.
		_, err = w.create(ctx, o.GetId(), "ship-whole-2", map[string]int64{"TEA": 1})
		if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "TEA: 1 ordered, 1 already in shipments, 1 more asked") {
			t.Errorf("over-shipping: %v, want failed_precondition naming TEA", err)
		}
	})
}

func TestCreateShipmentInTwoParcels(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		o := w.paidOrder(t, 2, home, map[string]int64{"BOOK": 3, "LAMP": 1})
		first, err := w.create(ctx, o.GetId(), "ship-two-1", map[string]int64{"BOOK": 1}, map[string]int64{"BOOK": 1, "LAMP": 1})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(first.GetShipments()); n != 2 {
			t.Fatalf("%d shipments, want one per parcel", n)
		}
		a, b := first.GetShipments()[0], first.GetShipments()[1]
		if a.GetTrackingNumber() == b.GetTrackingNumber() || a.GetId() == b.GetId() {
			t.Errorf("parcels share a label: %v / %v", a, b)
		}
		w.waitOrder(t, o.GetId(), orderv1.OrderStatus_ORDER_STATUS_SHIPPED)
		// One BOOK is left; two more is over.
		if _, err := w.create(ctx, o.GetId(), "ship-two-2", map[string]int64{"BOOK": 2}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("two more books: %v, want failed_precondition", err)
		}
		w.clock.Advance(time.Hour)
		if _, err := w.create(ctx, o.GetId(), "ship-two-3", map[string]int64{"BOOK": 1}); err != nil {
			t.Errorf("the last book: %v", err)
		}
		list, err := w.staff.ListOrderShipments(ctx, &shippingv1.ListOrderShipmentsRequest{OrderId: o.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		var items []string
		for _, s := range list.GetShipments() {
			for _, it := range s.GetItems() {
				items = append(items, fmt.Sprintf("%s×%d", it.GetSku(), it.GetQuantity()))
			}
		}
		if diff := cmp.Diff([]string{"BOOK×1", "BOOK×1", "LAMP×1", "BOOK×1"}, items); diff != "" {
			t.Errorf("items shipped, oldest first (-want +got):\n%s", diff)
		}
		// An item not in the order, and one listed twice, are refused.
		for _, p := range []map[string]int64{{"PEN": 1}} {
			if _, err := w.create(ctx, o.GetId(), "ship-two-4", p); code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), `has no item "PEN"`) {
				t.Errorf("unknown item: %v", err)
			}
		}
		twice := &shippingv1.CreateShipmentRequest{OrderId: o.GetId(), RateId: rateID, IdempotencyKey: "ship-two-5",
			Parcels: []*shippingv1.ParcelSpec{{WeightGrams: 10, Items: []*shippingv1.ShipmentItem{{Sku: "BOOK", Quantity: 1}, {Sku: "BOOK", Quantity: 1}}}}}
		if _, err := w.staff.CreateShipment(ctx, twice); code(err) != connect.CodeInvalidArgument {
			t.Errorf("item listed twice: %v", err)
		}
	})
}

func TestConcurrentShipmentsNeverOverShip(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		o := w.paidOrder(t, 3, home, map[string]int64{"SOCK": 3})
		const callers = 8
		var wg sync.WaitGroup
		codes := make([]connect.Code, callers)
		for i := range callers {
			wg.Go(func() {
				_, err := w.create(ctx, o.GetId(), fmt.Sprintf("ship-race-%d", i), map[string]int64{"SOCK": 1})
				if err != nil {
					codes[i] = code(err)
				}
			})
		}
		wg.Wait()
		count := map[connect.Code]int{}
		for _, c := range codes {
			count[c]++
		}
		if diff := cmp.Diff(map[connect.Code]int{0: 3, connect.CodeFailedPrecondition: callers - 3}, count); diff != "" {
			t.Errorf("outcomes by code, 0 = ok (-want +got):\n%s", diff)
		}
		if n := w.shipmentRows(t, o.GetId()); n != 3 {
			t.Errorf("%d shipments recorded, want 3", n)
		}
	})
}

// A request repeated with its key while the first try is still running (a
// client retrying after a timeout) gets the first's shipment, rather than
// being told the order has nothing left to ship: here the repeat found no
// shipment under the key, then the first try recorded its shipment while
// the repeat read the order.
func TestARepeatOverlappingTheFirstTryGetsItsShipment(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		o := w.paidOrder(t, 5, home, map[string]int64{"SCARF": 1})
		arrived, release := w.orderReads.hold()
		repeat := make(chan error, 1)
		var repeated *shippingv1.CreateShipmentResponse
		go func() {
			res, err := w.create(ctx, o.GetId(), "ship-repeat", map[string]int64{"SCARF": 1})
			repeated = res
			repeat <- err
		}()
		<-arrived
		first, err := w.create(ctx, o.GetId(), "ship-repeat", map[string]int64{"SCARF": 1})
		if err != nil {
			t.Fatalf("first try: %v", err)
		}
		close(release)
		if err := <-repeat; err != nil {
			t.Fatalf("repeat: %v", err)
		}
		if diff := cmp.Diff(first, repeated, protocmp.Transform()); diff != "" {
			t.Errorf("the repeat answers differently (-first +repeat):\n%s", diff)
		}
		if n := w.shipmentRows(t, o.GetId()); n != 1 {
			t.Errorf("%d shipments recorded, want 1", n)
		}
	})
}

func TestCarrierRefusalCreatesNoShipment(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		nowhere := &typev1.PostalAddress{Name: "Bob", Line1: "1 Nowhere Ln", City: "Springfield", Region: "CA", PostalCode: badPostalCode, Country: "US"}
		bad := w.paidOrder(t, 4, nowhere, map[string]int64{"KITE": 1})
		_, err := w.create(ctx, bad.GetId(), "ship-bad-address", map[string]int64{"KITE": 1})
		if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "postal code 00000 does not exist in US") ||
			!strings.Contains(err.Error(), "no shipment was created") {
			t.Errorf("bad address: %v, want invalid_argument with the carrier's reason", err)
		}
		if n := w.shipmentRows(t, bad.GetId()); n != 0 {
			t.Errorf("%d shipments recorded for a refused address", n)
		}
		// The second parcel is too heavy: the first's label is voided too.
		o := w.paidOrder(t, 4, home, map[string]int64{"ANVIL": 2})
		req := &shippingv1.CreateShipmentRequest{OrderId: o.GetId(), RateId: rateID, IdempotencyKey: "ship-heavy", Parcels: []*shippingv1.ParcelSpec{
			{WeightGrams: 1000, Items: []*shippingv1.ShipmentItem{{Sku: "ANVIL", Quantity: 1}}},
			{WeightGrams: maxParcelGrams + 1, Items: []*shippingv1.ShipmentItem{{Sku: "ANVIL", Quantity: 1}}},
		}}
		_, err = w.staff.CreateShipment(ctx, req)
		if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "refused parcel 2") {
			t.Errorf("heavy parcel: %v, want invalid_argument about parcel 2", err)
		}
		if n := w.shipmentRows(t, o.GetId()); n != 0 {
			t.Errorf("%d shipments recorded for a refused request", n)
		}
		if v := w.carrier.voidedLabels(); len(v) != 1 {
			t.Errorf("voided labels %v, want the first parcel's", v)
		}
		if n := w.labels.count(); n != 0 {
			t.Errorf("%d labels kept for refused requests", n)
		}
		// The order still has everything to ship.
		req.Parcels[1].WeightGrams = 2000
		req.IdempotencyKey = "ship-heavy-2"
		if _, err := w.staff.CreateShipment(ctx, req); err != nil {
			t.Errorf("after the refusal: %v", err)
		}
	})
}

// Two tries of one CreateShipment that both buy the parcel's label, at a
// carrier that sells a new label each time (UPS, FedEx): the first label
// recorded stays, with its own PDF, and the other is voided.
func TestOverlappingPurchasesKeepOneLabel(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		w.carrier.mu.Lock()
		w.carrier.newLabelEachBuy = true
		w.carrier.mu.Unlock()
		o := w.paidOrder(t, 6, home, map[string]int64{"SCARF": 1})
		arrived, release := w.carrier.holdNextLabel()
		slow := make(chan error, 1)
		var slowRes *shippingv1.CreateShipmentResponse
		go func() {
			res, err := w.create(ctx, o.GetId(), "ship-twice", map[string]int64{"SCARF": 1})
			slowRes = res
			slow <- err
		}()
		<-arrived // the first try is buying its label; a retry overtakes it
		fast, err := w.create(ctx, o.GetId(), "ship-twice", map[string]int64{"SCARF": 1})
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		close(release)
		if err := <-slow; err != nil {
			t.Fatalf("first try: %v", err)
		}
		kept := fast.GetShipments()[0]
		if diff := cmp.Diff(fast, slowRes, protocmp.Transform()); diff != "" {
			t.Errorf("the tries answer differently (-retry +first):\n%s", diff)
		}
		if n := w.carrier.purchases()[kept.GetId()]; n != 2 {
			t.Fatalf("%d purchases for the parcel, want the 2 this test makes", n)
		}
		voided := w.carrier.voidedLabels()
		if len(voided) != 1 || voided[0] == kept.GetTrackingNumber() {
			t.Errorf("voided %v; want only the label that was not recorded (kept %s)", voided, kept.GetTrackingNumber())
		}
		label, err := w.staff.GetLabel(ctx, &shippingv1.GetLabelRequest{ShipmentId: kept.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(label.GetContent()), kept.GetTrackingNumber()) {
			t.Errorf("the stored label %q is not the recorded one, %s", label.GetContent(), kept.GetTrackingNumber())
		}
	})
}
