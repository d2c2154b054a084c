package shipping

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

// orderArgs asks to move an order to shipped or delivered. Prefix names
// the cause ("shipment:<id>" for a parcel that shipped, "order:<id>" for
// the last delivery); the order service records prefix+":"+status and so
// applies each move once however often the job runs.
type orderArgs struct {
	OrderID string `json:"order_id"`
	Target  string `json:"target"` // "shipped" or "delivered"
	Prefix  string `json:"prefix"`
}

func (orderArgs) Kind() string { return "shipping.order_fulfillment" }

// notifyArgs asks to tell the shopper that a parcel shipped or was
// delivered. EventID is the notification's idempotency key.
type notifyArgs struct {
	EventID    string `json:"event_id"`
	EventKind  int32  `json:"kind"`
	ShipmentID string `json:"shipment_id"`
}

func (notifyArgs) Kind() string { return "shipping.notify" }

// subscribeArgs asks the parcel's carrier to push its scans here.
type subscribeArgs struct {
	ShipmentID string `json:"shipment_id"`
}

func (subscribeArgs) Kind() string { return "shipping.subscribe_pushes" }

// pollArgs is the periodic tracking poll.
type pollArgs struct{}

func (pollArgs) Kind() string { return "shipping.poll_tracking" }

func (pollArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// queuePoll queues a tracking poll; every replica does so each
// trackInterval (Start), and the poll is unique per interval of the clock
// (at least a second), so the replicas together poll once per interval. A
// poll that outlasts its interval may overlap the next: both fold what the
// carriers say into each shipment under its lock, and folding the same
// tracking twice changes nothing (applyTracking). A plain timer rather
// than River's periodic jobs, which keep the client running between ticks:
// on SQLite (dev) the client parks in between (jobs.Config.ParkAfter).
func (s *Service) queuePoll(ctx context.Context) {
	period := max(s.trackInterval, time.Second) // River's shortest
	_, err := s.jobs.Insert(ctx, pollArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: period}})
	if err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "queueing the tracking poll; trying again at the next tick", "err", err)
	}
}

func (s *Service) workers() *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[orderArgs]) error {
		return s.advanceOrder(ctx, j.Args)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[notifyArgs]) error {
		return s.notify(ctx, j.Args)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[subscribeArgs]) error {
		return s.subscribePushes(ctx, j.Args.ShipmentID)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[pollArgs]) error {
		_, err := s.PollTracking(ctx)
		return err
	}))
	return w
}

// shipped puts the jobs of a parcel that shipped with carrier in tx: the
// order moves to shipped, the shopper hears of it, and a carrier that
// pushes scans is asked to.
func (s *Service) shipped(ctx context.Context, tx bun.Tx, shipmentID, orderID, carrier string) error {
	err := s.jobs.InsertTx(ctx, tx, orderArgs{OrderID: orderID, Target: "shipped", Prefix: "shipment:" + shipmentID}, nil)
	if err != nil {
		return err
	}
	if _, ok := s.labelCarriers[carrier].(PushSubscriber); ok && s.webhookURL != "" && s.webhookSecret != "" {
		if err := s.jobs.InsertTx(ctx, tx, subscribeArgs{ShipmentID: shipmentID}, nil); err != nil {
			return err
		}
	}
	return s.insertNotify(ctx, tx, shipmentID, notificationv1.EventKind_EVENT_KIND_ORDER_SHIPPED, "shipped")
}

// subscribePushes asks a parcel's carrier to push its scans to this shop,
// with the webhook secret as the credential the pushes carry. A refusal is
// logged, not retried: the poll still follows the parcel.
func (s *Service) subscribePushes(ctx context.Context, shipmentID string) error {
	sh, err := s.store.shipment(ctx, shipmentID)
	if err != nil {
		return err
	}
	sub, ok := s.labelCarriers[sh.Carrier].(PushSubscriber)
	if !ok {
		return nil
	}
	refused, err := sub.Subscribe(ctx, []string{sh.TrackingNumber}, s.webhookURL+WebhookPath+sh.Carrier, s.webhookSecret)
	if err != nil {
		return err
	}
	if len(refused) > 0 {
		s.log.WarnContext(ctx, "carrier refused to push a parcel's scans; it is polled", "carrier", sh.Carrier, "shipment", shipmentID)
	}
	return nil
}

// delivered puts the jobs of a parcel that was delivered in tx: the shopper
// hears of it, and when it was the last of an order that has shipped
// whole, the order moves to delivered.
func (s *Service) delivered(ctx context.Context, tx bun.Tx, shipmentID, orderID string) error {
	if err := s.insertNotify(ctx, tx, shipmentID, notificationv1.EventKind_EVENT_KIND_ORDER_DELIVERED, "delivered"); err != nil {
		return err
	}
	done, err := s.orderDelivered(ctx, tx, orderID)
	if err != nil || !done {
		return err
	}
	return s.jobs.InsertTx(ctx, tx, orderArgs{OrderID: orderID, Target: "delivered", Prefix: "order:" + orderID}, nil)
}

// orderDelivered reports whether every item of the order has shipped and
// every parcel that is not voided has been delivered.
func (s *Service) orderDelivered(ctx context.Context, tx bun.Tx, orderID string) (bool, error) {
	o, err := s.store.order(ctx, tx, orderID)
	if err != nil {
		return false, err
	}
	shipped, err := s.store.shippedQuantities(ctx, tx, orderID)
	if err != nil {
		return false, err
	}
	for sku, line := range o.Ordered {
		if shipped[sku] < line.Quantity {
			return false, nil
		}
	}
	open, err := s.store.undelivered(ctx, tx, orderID)
	if err != nil {
		return false, err
	}
	return open == 0, nil
}

func (s *Service) insertNotify(ctx context.Context, tx bun.Tx, shipmentID string, kind notificationv1.EventKind, what string) error {
	if s.notifier == nil {
		return nil
	}
	return s.jobs.InsertTx(ctx, tx, notifyArgs{EventID: "shipment:" + shipmentID + ":" + what, EventKind: int32(kind), ShipmentID: shipmentID}, nil)
}

// advanceOrder moves an order along paid → fulfilling → shipped →
// delivered as far as a.Target, through the order service. Each move is
// keyed, so a retried job repeats nothing; an order already there, or
// canceled or refunded meanwhile, needs nothing.
func (s *Service) advanceOrder(ctx context.Context, a orderArgs) error {
	res, err := s.orders.GetOrderInternal(ctx, &orderv1.GetOrderInternalRequest{Id: a.OrderID})
	if err != nil {
		return fmt.Errorf("read order %s: %w", a.OrderID, err)
	}
	target := orderv1.OrderStatus_ORDER_STATUS_SHIPPED
	if a.Target == "delivered" {
		target = orderv1.OrderStatus_ORDER_STATUS_DELIVERED
	}
	move := func(to orderv1.OrderStatus, note string) error {
		_, err := s.orders.UpdateFulfillmentInternal(ctx, &orderv1.UpdateFulfillmentInternalRequest{
			Id: a.OrderID, Status: to, Note: note, EventId: a.Prefix + ":" + statusWords(to),
		})
		if err != nil {
			return fmt.Errorf("move order %s to %s: %w", a.OrderID, statusWords(to), err)
		}
		return nil
	}
	var steps []orderv1.OrderStatus
	switch st := res.GetOrder().GetStatus(); st {
	case orderv1.OrderStatus_ORDER_STATUS_PAID:
		steps = []orderv1.OrderStatus{orderv1.OrderStatus_ORDER_STATUS_FULFILLING, orderv1.OrderStatus_ORDER_STATUS_SHIPPED}
	case orderv1.OrderStatus_ORDER_STATUS_FULFILLING, orderv1.OrderStatus_ORDER_STATUS_PARTIALLY_REFUNDED:
		steps = []orderv1.OrderStatus{orderv1.OrderStatus_ORDER_STATUS_SHIPPED}
	case orderv1.OrderStatus_ORDER_STATUS_SHIPPED:
	default:
		// Delivered already, or canceled or refunded since: nothing to do.
		s.log.InfoContext(ctx, "order not moved", "order", a.OrderID, "status", statusWords(st), "target", a.Target)
		return nil
	}
	if target == orderv1.OrderStatus_ORDER_STATUS_DELIVERED {
		steps = append(steps, target)
	}
	for _, to := range steps {
		note := "shipped by the shipping service"
		switch to {
		case orderv1.OrderStatus_ORDER_STATUS_FULFILLING:
			note = "a parcel is being shipped"
		case orderv1.OrderStatus_ORDER_STATUS_DELIVERED:
			note = "every parcel was delivered"
		}
		if err := move(to, note); err != nil {
			return err
		}
	}
	return nil
}

// notify tells the notification service about a parcel.
func (s *Service) notify(ctx context.Context, a notifyArgs) error {
	r, err := s.store.shipment(ctx, a.ShipmentID)
	if err != nil {
		return err
	}
	to := new(typev1.PostalAddress)
	if err := protojson.Unmarshal([]byte(r.ShipTo), to); err != nil {
		return fmt.Errorf("shipment %s: read the ship-to address: %w", r.ID, err)
	}
	notice := &notificationv1.ShipmentNotice{
		ShipmentId: r.ID, OrderId: r.OrderID, OrderNumber: r.Order.OrderNumber, Carrier: r.Carrier,
		ServiceName: r.Service, TrackingNumber: r.TrackingNumber, TrackingUrl: s.trackingURL(r.Carrier, r.TrackingNumber),
		Phone: to.GetPhone(),
	}
	for _, it := range r.Items {
		notice.Items = append(notice.Items, &notificationv1.ShipmentNoticeItem{Sku: it.SKU, Title: r.Order.Ordered[it.SKU].Title, Quantity: it.Quantity})
	}
	occurred := time.UnixMicro(r.UpdatedAt)
	if len(r.Events) > 0 {
		occurred = time.UnixMicro(r.Events[len(r.Events)-1].At)
	}
	_, err = s.notifier.Notify(ctx, &notificationv1.NotifyRequest{
		EventId: a.EventID, Kind: notificationv1.EventKind(a.EventKind), UserId: r.Order.CustomerID,
		OccurTime: timestamppb.New(occurred), Subject: &notificationv1.NotifyRequest_Shipment{Shipment: notice},
	})
	if err != nil {
		return fmt.Errorf("notify %s: %w", a.EventID, err)
	}
	return nil
}
