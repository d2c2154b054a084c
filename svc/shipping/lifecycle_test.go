package shipping_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	shippingv1 "github.com/emporiumhq/emporium/gen/emporium/shipping/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/svc/shipping"
)

func TestCreateShipmentIsIdempotentAndResumes(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		o := w.paidOrder(t, 1, home, map[string]int64{"CUP": 2})
		first, err := w.create(ctx, o.GetId(), "ship-idem-1", map[string]int64{"CUP": 1})
		if err != nil {
			t.Fatal(err)
		}
		again, err := w.create(ctx, o.GetId(), "ship-idem-1", map[string]int64{"CUP": 1})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
			t.Errorf("a repeated request answers differently (-first +again):\n%s", diff)
		}
		if _, err := w.create(ctx, o.GetId(), "ship-idem-1", map[string]int64{"CUP": 2}); code(err) != connect.CodeAlreadyExists {
			t.Errorf("same key, other request: %v, want already_exists", err)
		}

		// The carrier is down: the call fails naming it, the parcel stays
		// pending (holding its item), and the retry buys its label once.
		w.carrier.setUnavailable(true)
		_, err = w.create(ctx, o.GetId(), "ship-idem-2", map[string]int64{"CUP": 1})
		if code(err) != connect.CodeUnavailable || !strings.Contains(err.Error(), "carrier "+carrierName+" is unavailable") {
			t.Fatalf("carrier down: %v, want unavailable naming the carrier", err)
		}
		list, err := w.staff.ListShipments(ctx, &shippingv1.ListShipmentsRequest{OrderId: o.GetId(),
			Statuses: []shippingv1.ShipmentStatus{shippingv1.ShipmentStatus_SHIPMENT_STATUS_PENDING}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetShipments()) != 1 {
			t.Fatalf("pending shipments: %v, want the interrupted one", list.GetShipments())
		}
		pending := list.GetShipments()[0]
		if _, err := w.staff.GetLabel(ctx, &shippingv1.GetLabelRequest{ShipmentId: pending.GetId()}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("label of a pending shipment: %v, want failed_precondition", err)
		}
		if _, err := w.create(ctx, o.GetId(), "ship-idem-3", map[string]int64{"CUP": 1}); code(err) != connect.CodeFailedPrecondition {
			t.Errorf("the pending parcel holds the last cup, yet: %v", err)
		}
		w.carrier.setUnavailable(false)
		resumed, err := w.create(ctx, o.GetId(), "ship-idem-2", map[string]int64{"CUP": 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := resumed.GetShipments()[0]; got.GetId() != pending.GetId() || got.GetStatus() != shippingv1.ShipmentStatus_SHIPMENT_STATUS_LABEL_CREATED {
			t.Errorf("resumed shipment %v, want %s with a label", got, pending.GetId())
		}
		want := map[string]int{first.GetShipments()[0].GetId(): 1, pending.GetId(): 1}
		if diff := cmp.Diff(want, w.carrier.purchases()); diff != "" {
			t.Errorf("label purchases by shipment (-want +got):\n%s", diff)
		}
	})
}

func TestVoidShipment(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		o := w.paidOrder(t, 2, home, map[string]int64{"HAT": 1, "FAN": 1})
		res, err := w.create(ctx, o.GetId(), "ship-void-1", map[string]int64{"HAT": 1})
		if err != nil {
			t.Fatal(err)
		}
		hat := res.GetShipments()[0]
		for range 2 { // voiding twice is voiding once
			out, err := w.staff.VoidShipment(ctx, &shippingv1.VoidShipmentRequest{Id: hat.GetId()})
			if err != nil {
				t.Fatal(err)
			}
			if out.GetShipment().GetStatus() != shippingv1.ShipmentStatus_SHIPMENT_STATUS_VOIDED {
				t.Errorf("status %v after void", out.GetShipment().GetStatus())
			}
		}
		if diff := cmp.Diff([]string{hat.GetTrackingNumber()}, w.carrier.voidedLabels()); diff != "" {
			t.Errorf("voided at the carrier (-want +got):\n%s", diff)
		}
		// The hat may ship again.
		if _, err := w.create(ctx, o.GetId(), "ship-void-2", map[string]int64{"HAT": 1, "FAN": 1}); err != nil {
			t.Fatalf("reship after void: %v", err)
		}
		// Once picked up, a label cannot be voided.
		w.clock.Advance(pickup + time.Minute)
		if _, err := w.ship.PollTracking(ctx); err != nil {
			t.Fatal(err)
		}
		list, err := w.staff.ListShipments(ctx, &shippingv1.ListShipmentsRequest{OrderId: o.GetId(),
			Statuses: []shippingv1.ShipmentStatus{shippingv1.ShipmentStatus_SHIPMENT_STATUS_IN_TRANSIT}})
		if err != nil || len(list.GetShipments()) != 1 {
			t.Fatalf("in transit: %v, %v", list.GetShipments(), err)
		}
		_, err = w.staff.VoidShipment(ctx, &shippingv1.VoidShipmentRequest{Id: list.GetShipments()[0].GetId()})
		if code(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "in transit") {
			t.Errorf("void in transit: %v, want failed_precondition", err)
		}
		if _, err := w.staff.VoidShipment(ctx, &shippingv1.VoidShipmentRequest{Id: "no-such-shipment"}); code(err) != connect.CodeNotFound {
			t.Errorf("void unknown: %v", err)
		}
	})
}

// fulfilmentJobs counts the jobs asking to move an order to target.
func (w *world) fulfilmentJobs(t *testing.T, target string) int {
	t.Helper()
	var n int
	field := "json_extract(args, '$.target')"
	if db.IsPostgres(w.shipDB) {
		field = "args->>'target'"
	}
	err := w.shipDB.NewSelect().Table("river_job").ColumnExpr("COUNT(*)").
		Where("kind = ?", "shipping.order_fulfillment").Where(field+" = ?", target).
		Scan(context.Background(), &n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTrackingMovesTheOrderToShippedThenDeliveredOnce(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		o := w.paidOrder(t, 3, home, map[string]int64{"DESK": 1, "CHAIR": 1})
		first, err := w.create(ctx, o.GetId(), "ship-track-1", map[string]int64{"DESK": 1})
		if err != nil {
			t.Fatal(err)
		}
		desk := first.GetShipments()[0]
		w.waitOrder(t, o.GetId(), orderv1.OrderStatus_ORDER_STATUS_SHIPPED)
		w.clock.Advance(10 * time.Hour)
		second, err := w.create(ctx, o.GetId(), "ship-track-2", map[string]int64{"CHAIR": 1})
		if err != nil {
			t.Fatal(err)
		}
		chair := second.GetShipments()[0]

		tracking := func(id string) *shippingv1.GetTrackingResponse {
			t.Helper()
			res, err := w.staff.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: id})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		poll := func() {
			t.Helper()
			if n, err := w.ship.PollTracking(ctx); err != nil {
				t.Fatal(err)
			} else if n == 0 {
				t.Error("the poll asked about no parcel")
			}
		}
		// 17 h after the desk's label: it is on its way.
		w.clock.Advance(7 * time.Hour)
		poll()
		got := tracking(desk.GetId())
		var steps []string
		for _, e := range got.GetEvents() {
			steps = append(steps, strings.TrimPrefix(e.GetStatus().String(), "SHIPMENT_STATUS_")+": "+e.GetDescription())
		}
		want := []string{
			"LABEL_CREATED: Shipment information received",
			"IN_TRANSIT: Picked up",
			"IN_TRANSIT: Departed facility",
		}
		if diff := cmp.Diff(want, steps); diff != "" || got.GetStatus() != shippingv1.ShipmentStatus_SHIPMENT_STATUS_IN_TRANSIT {
			t.Errorf("desk tracking %v (-want +got):\n%s", got.GetStatus(), diff)
		}
		// 27 h: the desk is delivered, the chair is not, and the order
		// waits for it.
		w.clock.Advance(10 * time.Hour)
		poll()
		poll() // a poll seeing the same events again changes nothing
		if st := tracking(desk.GetId()).GetStatus(); st != shippingv1.ShipmentStatus_SHIPMENT_STATUS_DELIVERED {
			t.Errorf("desk %v, want delivered", st)
		}
		if n := len(tracking(desk.GetId()).GetEvents()); n != len(timeline) {
			t.Errorf("desk has %d events after repeated polls, want %d", n, len(timeline))
		}
		if n := w.fulfilmentJobs(t, "delivered"); n != 0 {
			t.Errorf("%d jobs to deliver the order while a parcel is on its way", n)
		}
		// 37 h: the chair is delivered too.
		w.clock.Advance(10 * time.Hour)
		poll()
		if _, err := w.ship.PollTracking(ctx); err != nil {
			t.Fatal(err)
		}
		if st := tracking(chair.GetId()).GetStatus(); st != shippingv1.ShipmentStatus_SHIPMENT_STATUS_DELIVERED {
			t.Errorf("chair %v, want delivered", st)
		}
		done := w.waitOrder(t, o.GetId(), orderv1.OrderStatus_ORDER_STATUS_DELIVERED)
		if diff := cmp.Diff([]string{"UNSPECIFIED→PENDING_PAYMENT", "PENDING_PAYMENT→PAID", "PAID→FULFILLING",
			"FULFILLING→SHIPPED", "SHIPPED→DELIVERED"}, history(done)); diff != "" {
			t.Errorf("order history (-want +got):\n%s", diff)
		}
		if n := w.fulfilmentJobs(t, "delivered"); n != 1 {
			t.Errorf("%d jobs to deliver the order, want 1", n)
		}
		// Delivered parcels are no longer polled.
		if n, err := w.ship.PollTracking(ctx); err != nil || n != 0 {
			t.Errorf("poll after delivery asked about %d parcels (%v)", n, err)
		}
	})
}

// push posts a tracking push for carrier, signed with secret at the given
// time, and returns the HTTP status.
func (w *world) push(t testing.TB, carrier string, body []byte, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.url+shipping.WebhookPath+carrier, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if sig != "" {
		req.Header.Set(shipping.SignatureHeader, sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestTrackingWebhook(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		o := w.paidOrder(t, 4, home, map[string]int64{"RUG": 1})
		res, err := w.create(ctx, o.GetId(), "ship-hook-1", map[string]int64{"RUG": 1})
		if err != nil {
			t.Fatal(err)
		}
		rug := res.GetShipments()[0]
		now := w.clock.Now()
		body, err := json.Marshal(shipping.TrackingPush{TrackingNumber: rug.GetTrackingNumber(), Events: []shipping.PushedEvent{
			{Time: now, Status: "in_transit", Description: "Picked up", Location: "Oakland, CA, US"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		before, err := w.staff.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: rug.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		good := shipping.SignWebhook(webhookSecret, now, body)
		tampered := bytes.Replace(body, []byte("Picked up"), []byte("Delivered"), 1)
		bad := []struct {
			name    string
			carrier string
			body    []byte
			sig     string
			want    int
		}{
			{"unsigned", carrierName, body, "", http.StatusBadRequest},
			{"another secret", carrierName, body, shipping.SignWebhook("whsec_other", now, body), http.StatusBadRequest},
			{"too old", carrierName, body, shipping.SignWebhook(webhookSecret, now.Add(-10*time.Minute), body), http.StatusBadRequest},
			{"tampered body", carrierName, tampered, good, http.StatusBadRequest},
			{"garbled header", carrierName, body, "t=x,v1=zz", http.StatusBadRequest},
			{"not a push", carrierName, []byte(`{"nope":1}`), shipping.SignWebhook(webhookSecret, now, []byte(`{"nope":1}`)), http.StatusBadRequest},
			{"unknown carrier", "pigeon", body, good, http.StatusNotFound},
			{"too large", carrierName, bytes.Repeat([]byte(" "), 65<<10), good, http.StatusRequestEntityTooLarge},
		}
		for _, tt := range bad {
			if got := w.push(t, tt.carrier, tt.body, tt.sig); got != tt.want {
				t.Errorf("%s: HTTP %d, want %d", tt.name, got, tt.want)
			}
		}
		after, err := w.staff.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: rug.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, after, protocmp.Transform()); diff != "" {
			t.Errorf("refused pushes changed the tracking (-before +after):\n%s", diff)
		}
		for range 2 { // a redelivered push changes nothing more
			if got := w.push(t, carrierName, body, good); got != http.StatusOK {
				t.Fatalf("good push: HTTP %d", got)
			}
		}
		after, err = w.staff.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: rug.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if after.GetStatus() != shippingv1.ShipmentStatus_SHIPMENT_STATUS_IN_TRANSIT || len(after.GetEvents()) != len(before.GetEvents())+1 {
			t.Errorf("after the push: %v with %d events, want in transit with %d", after.GetStatus(), len(after.GetEvents()), len(before.GetEvents())+1)
		}
		// A push about a parcel we do not know is acknowledged and ignored.
		other, _ := json.Marshal(shipping.TrackingPush{TrackingNumber: "UNKNOWN1"})
		if got := w.push(t, carrierName, other, shipping.SignWebhook(webhookSecret, now, other)); got != http.StatusOK {
			t.Errorf("unknown parcel: HTTP %d", got)
		}
	})
}

func TestShoppersSeeOnlyTheirOwnShipmentsAndStaffShip(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		mine := w.paidOrder(t, 5, home, map[string]int64{"VASE": 2})
		unshipped := w.paidOrder(t, 5, home, map[string]int64{"VASE": 1})
		res, err := w.create(ctx, mine.GetId(), "ship-access-1", map[string]int64{"VASE": 1})
		if err != nil {
			t.Fatal(err)
		}
		id := res.GetShipments()[0].GetId()
		owner, stranger := w.shopper(5), w.shopper(6)

		if got, err := owner.GetShipment(ctx, &shippingv1.GetShipmentRequest{Id: id}); err != nil || got.GetShipment().GetId() != id {
			t.Errorf("owner GetShipment: %v", err)
		}
		if got, err := owner.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: id}); err != nil || got.GetShipmentId() != id {
			t.Errorf("owner GetTracking: %v", err)
		}
		if got, err := owner.ListOrderShipments(ctx, &shippingv1.ListOrderShipmentsRequest{OrderId: mine.GetId()}); err != nil || len(got.GetShipments()) != 1 {
			t.Errorf("owner ListOrderShipments: %v, %v", got.GetShipments(), err)
		}
		if got, err := owner.ListOrderShipments(ctx, &shippingv1.ListOrderShipmentsRequest{OrderId: unshipped.GetId()}); err != nil || len(got.GetShipments()) != 0 {
			t.Errorf("owner ListOrderShipments of an order not shipped yet: %v, %v", got.GetShipments(), err)
		}

		type call struct {
			name string
			do   func(c shippingServiceClient) error
		}
		reads := []call{
			{"GetShipment", func(c shippingServiceClient) error {
				_, err := c.GetShipment(ctx, &shippingv1.GetShipmentRequest{Id: id})
				return err
			}},
			{"GetTracking", func(c shippingServiceClient) error {
				_, err := c.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: id})
				return err
			}},
			{"ListOrderShipments", func(c shippingServiceClient) error {
				_, err := c.ListOrderShipments(ctx, &shippingv1.ListOrderShipmentsRequest{OrderId: mine.GetId()})
				return err
			}},
			{"ListOrderShipments of an order not shipped yet", func(c shippingServiceClient) error {
				_, err := c.ListOrderShipments(ctx, &shippingv1.ListOrderShipmentsRequest{OrderId: unshipped.GetId()})
				return err
			}},
		}
		for _, r := range reads {
			if err := r.do(stranger); code(err) != connect.CodeNotFound {
				t.Errorf("stranger %s: %v, want not_found", r.name, err)
			}
			if err := r.do(w.anon); code(err) != connect.CodeUnauthenticated {
				t.Errorf("anonymous %s: %v, want unauthenticated", r.name, err)
			}
		}
		staffOnly := []call{
			{"CreateShipment", func(c shippingServiceClient) error {
				_, err := c.CreateShipment(ctx, &shippingv1.CreateShipmentRequest{OrderId: mine.GetId(), RateId: rateID, IdempotencyKey: "ship-access-2",
					Parcels: []*shippingv1.ParcelSpec{{WeightGrams: 100, Items: []*shippingv1.ShipmentItem{{Sku: "VASE", Quantity: 1}}}}})
				return err
			}},
			{"VoidShipment", func(c shippingServiceClient) error {
				_, err := c.VoidShipment(ctx, &shippingv1.VoidShipmentRequest{Id: id})
				return err
			}},
			{"GetLabel", func(c shippingServiceClient) error {
				_, err := c.GetLabel(ctx, &shippingv1.GetLabelRequest{ShipmentId: id})
				return err
			}},
			{"ListShipments", func(c shippingServiceClient) error {
				_, err := c.ListShipments(ctx, &shippingv1.ListShipmentsRequest{})
				return err
			}},
		}
		for _, r := range staffOnly {
			if err := r.do(owner); code(err) != connect.CodePermissionDenied {
				t.Errorf("owner %s: %v, want permission_denied", r.name, err)
			}
		}
		if n := w.shipmentRows(t, mine.GetId()); n != 1 {
			t.Errorf("%d shipments after the shoppers' attempts, want 1", n)
		}
		for _, r := range slices.Concat(reads, staffOnly) {
			if err := r.do(w.staff); err != nil {
				t.Errorf("staff %s: %v", r.name, err)
			}
		}
	})
}

func TestListShipmentsPagesAndFilters(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		o := w.paidOrder(t, 7, home, map[string]int64{"NUT": 5})
		var ids []string
		for i := range 5 {
			w.clock.Advance(time.Minute)
			res, err := w.create(ctx, o.GetId(), fmt.Sprintf("ship-list-%d", i), map[string]int64{"NUT": 1})
			if err != nil {
				t.Fatal(err)
			}
			ids = append([]string{res.GetShipments()[0].GetId()}, ids...) // newest first
		}
		if _, err := w.staff.VoidShipment(ctx, &shippingv1.VoidShipmentRequest{Id: ids[0]}); err != nil {
			t.Fatal(err)
		}
		var got []string
		req := &shippingv1.ListShipmentsRequest{PageSize: 2, Carrier: carrierName}
		for page := 0; ; page++ {
			res, err := w.staff.ListShipments(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range res.GetShipments() {
				got = append(got, s.GetId())
			}
			if res.GetNextPageToken() == "" {
				break
			}
			if page > 5 {
				t.Fatal("paging does not end")
			}
			req.PageToken = res.GetNextPageToken()
		}
		if diff := cmp.Diff(ids, got); diff != "" {
			t.Errorf("all pages, newest first (-want +got):\n%s", diff)
		}
		tests := []struct {
			name string
			req  *shippingv1.ListShipmentsRequest
			want []string
		}{
			{"voided", &shippingv1.ListShipmentsRequest{Statuses: []shippingv1.ShipmentStatus{shippingv1.ShipmentStatus_SHIPMENT_STATUS_VOIDED}}, ids[:1]},
			{"labelled", &shippingv1.ListShipmentsRequest{OrderId: o.GetId(), Statuses: []shippingv1.ShipmentStatus{shippingv1.ShipmentStatus_SHIPMENT_STATUS_LABEL_CREATED}}, ids[1:]},
			{"other carrier", &shippingv1.ListShipmentsRequest{Carrier: "ups"}, nil},
			{"other order", &shippingv1.ListShipmentsRequest{OrderId: "no-such-order"}, nil},
		}
		for _, tt := range tests {
			res, err := w.staff.ListShipments(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range res.GetShipments() {
				got = append(got, s.GetId())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
		}
		first, err := w.staff.ListShipments(ctx, &shippingv1.ListShipmentsRequest{PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{first.GetNextPageToken(), "not-a-token"} {
			_, err := w.staff.ListShipments(ctx, &shippingv1.ListShipmentsRequest{PageSize: 1, Carrier: "ups", PageToken: tok})
			if code(err) != connect.CodeInvalidArgument {
				t.Errorf("token %q with other filters: %v, want invalid_argument", tok, err)
			}
		}
	})
}

func TestThePeriodicPollFollowsParcels(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, engine, worldOptions{trackInterval: 200 * time.Millisecond})
			ctx := context.Background()
			o := w.paidOrder(t, 8, home, map[string]int64{"OAR": 1})
			res, err := w.create(ctx, o.GetId(), "ship-periodic-1", map[string]int64{"OAR": 1})
			if err != nil {
				t.Fatal(err)
			}
			w.clock.Advance(timeline[len(timeline)-1].after)
			eventually(t, "the poll job delivers the parcel", func() error {
				tr, err := w.staff.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: res.GetShipments()[0].GetId()})
				if err != nil {
					return err
				}
				if tr.GetStatus() != shippingv1.ShipmentStatus_SHIPMENT_STATUS_DELIVERED {
					return fmt.Errorf("status %v", tr.GetStatus())
				}
				return nil
			})
			w.waitOrder(t, o.GetId(), orderv1.OrderStatus_ORDER_STATUS_DELIVERED)
		})
	}
}

func TestNewChecksShipmentDeps(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite", "shipping", shipping.Migrations)
	orders := orderv1connect.NewOrderServiceClient(http.DefaultClient, "http://127.0.0.1:1")
	base := func() shipping.Deps {
		return shipping.Deps{Rates: shipping.DefaultRateTable(), Currency: "USD", Log: logx.Discard(),
			DB: d, Orders: orders, Labels: &memLabels{}, From: shop}
	}
	twice := newScriptedCarrier("local", clocktest.New(time.Now()))
	tests := []struct {
		name   string
		change func(*shipping.Deps)
		want   string
	}{
		{"no orders", func(d *shipping.Deps) { d.Orders = nil }, "Orders is required"},
		{"no labels", func(d *shipping.Deps) { d.Labels = nil }, "Labels is required"},
		{"no ship-from", func(d *shipping.Deps) { d.From = nil }, "From"},
		{"ship-from without a city", func(d *shipping.Deps) {
			d.From = &typev1.PostalAddress{Name: "Shop", Line1: "1 Dock Rd", Country: "US"}
		}, "city"},
		{"two carriers of one name", func(d *shipping.Deps) { d.Carriers = []shipping.LabelCarrier{twice} }, `two carriers are named "local"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			deps := base()
			tt.change(&deps)
			if _, err := shipping.New(deps); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v; want an error saying %q", err, tt.want)
			}
		})
	}
	if _, err := shipping.New(base()); err != nil {
		t.Errorf("New with every dependency: %v", err)
	}
}

// The real local carrier and directory store, as `emporium dev` runs them:
// a whole order ships, its label is a PDF on disk, its parcel is followed
// to the door, and an address the carrier refuses creates nothing.
func TestShippingWithTheLocalCarrier(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, engine, worldOptions{local: true})
			ctx := context.Background()
			o := w.paidOrder(t, 9, home, map[string]int64{"LAMP": 1})
			res, err := w.staff.CreateShipment(ctx, &shippingv1.CreateShipmentRequest{OrderId: o.GetId(), RateId: "local:standard",
				IdempotencyKey: "ship-local-1", Parcels: []*shippingv1.ParcelSpec{{WeightGrams: 800,
					Items: []*shippingv1.ShipmentItem{{Sku: "LAMP", Quantity: 1}}}}})
			if err != nil {
				t.Fatal(err)
			}
			id := res.GetShipments()[0].GetId()
			label, err := w.staff.GetLabel(ctx, &shippingv1.GetLabelRequest{ShipmentId: id})
			if err != nil {
				t.Fatal(err)
			}
			if label.GetContentType() != "application/pdf" || !bytes.HasPrefix(label.GetContent(), []byte("%PDF-")) {
				t.Errorf("label: %s, %q…", label.GetContentType(), label.GetContent()[:min(8, len(label.GetContent()))])
			}
			w.waitOrder(t, o.GetId(), orderv1.OrderStatus_ORDER_STATUS_SHIPPED)
			w.clock.Advance(time.Hour)
			if _, err := w.ship.PollTracking(ctx); err != nil {
				t.Fatal(err)
			}
			tr, err := w.shopper(9).GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: id})
			if err != nil {
				t.Fatal(err)
			}
			if tr.GetStatus() != shippingv1.ShipmentStatus_SHIPMENT_STATUS_DELIVERED || len(tr.GetEvents()) < 3 {
				t.Errorf("tracking after an hour: %v with %d events", tr.GetStatus(), len(tr.GetEvents()))
			}
			w.waitOrder(t, o.GetId(), orderv1.OrderStatus_ORDER_STATUS_DELIVERED)

			bad := w.paidOrder(t, 9, &typev1.PostalAddress{Name: "Bob", Line1: "1 Elm St", City: "Springfield", Region: "IL",
				PostalCode: "ABCDE", Country: "US"}, map[string]int64{"LAMP": 1})
			_, err = w.staff.CreateShipment(ctx, &shippingv1.CreateShipmentRequest{OrderId: bad.GetId(), RateId: "local:standard",
				IdempotencyKey: "ship-local-2", Parcels: []*shippingv1.ParcelSpec{{WeightGrams: 800,
					Items: []*shippingv1.ShipmentItem{{Sku: "LAMP", Quantity: 1}}}}})
			if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "is not a US ZIP code") {
				t.Errorf("bad ZIP: %v, want invalid_argument with the carrier's reason", err)
			}
			if n := w.shipmentRows(t, bad.GetId()); n != 0 {
				t.Errorf("%d shipments recorded for a refused address", n)
			}
		})
	}
}

// A UPS parcel is subscribed to Track Alert when its label is bought, and
// UPS's pushes, in UPS's own format and carrying the subscription's
// credential, move it along; a push without the credential changes nothing.
func TestUPSTrackAlertPushesMoveTheParcel(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, engine, worldOptions{ups: true})
			ctx := context.Background()
			o := w.paidOrder(t, 4, home, map[string]int64{"LAMP": 1})
			res, err := w.staff.CreateShipment(ctx, &shippingv1.CreateShipmentRequest{OrderId: o.GetId(), RateId: "ups:ground",
				IdempotencyKey: "ship-ups-1", Parcels: []*shippingv1.ParcelSpec{{WeightGrams: 800,
					Items: []*shippingv1.ShipmentItem{{Sku: "LAMP", Quantity: 1}}}}})
			if err != nil {
				t.Fatal(err)
			}
			sh := res.GetShipments()[0]
			w.waitOrder(t, o.GetId(), orderv1.OrderStatus_ORDER_STATUS_SHIPPED)
			w.ups.Scan(sh.GetTrackingNumber(), "delivered")

			forged, err := json.Marshal(map[string]any{"trackingNumber": sh.GetTrackingNumber(), "gmtActivityDate": "20261201",
				"gmtActivityTime": "100000", "activityStatus": map[string]string{"type": "D", "code": "FS", "description": "Delivered"}})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodPost, w.url+shipping.WebhookPath+"ups", bytes.NewReader(forged))
			req.Header.Set("credential", "not-the-secret")
			hres, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			hres.Body.Close()
			if hres.StatusCode != http.StatusBadRequest {
				t.Errorf("push without the credential: %d, want 400", hres.StatusCode)
			}
			if tr, err := w.staff.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: sh.GetId()}); err != nil ||
				tr.GetStatus() != shippingv1.ShipmentStatus_SHIPMENT_STATUS_LABEL_CREATED {
				t.Errorf("after a forged push: %v, %v; want still label created", tr.GetStatus(), err)
			}

			// The subscription is a job after the label: UPS pushes once it has it.
			eventually(t, "UPS pushes the delivery", func() error {
				status, err := w.ups.Push(sh.GetTrackingNumber())
				if err != nil {
					return err
				}
				if status != http.StatusOK {
					return fmt.Errorf("the shop answered the push with %d", status)
				}
				return nil
			})
			tr, err := w.shopper(4).GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: sh.GetId()})
			if err != nil {
				t.Fatal(err)
			}
			if tr.GetStatus() != shippingv1.ShipmentStatus_SHIPMENT_STATUS_DELIVERED {
				t.Errorf("after UPS pushed the delivery: %v, want delivered (%v)", tr.GetStatus(), tr.GetEvents())
			}
			w.waitOrder(t, o.GetId(), orderv1.OrderStatus_ORDER_STATUS_DELIVERED)
			if n := w.ups.Calls("POST /api/track/v1/subscription"); n != 1 {
				t.Errorf("%d Track Alert subscriptions, want 1", n)
			}
		})
	}
}

// A poll the carrier does not answer only notes the attempt: the status a
// carrier gave stays, even when it is ahead of the newest scan.
func TestAFailedPollChangesNoStatus(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		o := w.paidOrder(t, 6, home, map[string]int64{"VASE": 1})
		res, err := w.create(ctx, o.GetId(), "ship-poll-fail", map[string]int64{"VASE": 1})
		if err != nil {
			t.Fatal(err)
		}
		vase := res.GetShipments()[0]
		now := w.clock.Now()
		body, err := json.Marshal(shipping.TrackingPush{TrackingNumber: vase.GetTrackingNumber(), Status: "out_for_delivery",
			Events: []shipping.PushedEvent{{Time: now, Status: "in_transit", Description: "Picked up"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := w.push(t, carrierName, body, shipping.SignWebhook(webhookSecret, now, body)); got != http.StatusOK {
			t.Fatalf("push: HTTP %d", got)
		}
		before, err := w.staff.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: vase.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if before.GetStatus() != shippingv1.ShipmentStatus_SHIPMENT_STATUS_OUT_FOR_DELIVERY {
			t.Fatalf("after the push: %v, want out for delivery", before.GetStatus())
		}
		w.carrier.setUnavailable(true)
		if n, err := w.ship.PollTracking(ctx); err != nil || n != 1 {
			t.Fatalf("PollTracking = %d, %v; want 1 parcel asked about", n, err)
		}
		after, err := w.staff.GetTracking(ctx, &shippingv1.GetTrackingRequest{ShipmentId: vase.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, after, protocmp.Transform()); diff != "" {
			t.Errorf("a failed poll changed the tracking (-before +after):\n%s", diff)
		}
	})
}
