package order

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/encoding/protojson"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
)

// notifyArgs is an outbox entry for the notification service: one event
// about an order, with the order as it was when it happened.
type notifyArgs struct {
	EventID string          `json:"event_id"`
	Event   int32           `json:"event_kind"` // a notificationv1.EventKind
	UserID  string          `json:"user_id"`
	Order   json.RawMessage `json:"order"` // protojson of orderv1.Order
}

func (notifyArgs) Kind() string { return "order_notify" }

// notify puts an event for the shopper in the outbox, in the transaction of
// the change that caused it. Without a notification service it does
// nothing. event names the change within the order ("confirmed").
func (s *Service) notify(ctx context.Context, tx bun.Tx, o *orderRow, kind notificationv1.EventKind, event string) error {
	if s.notifications == nil || o.CustomerID == "" {
		return nil
	}
	raw, err := protojson.Marshal(o.toProto())
	if err != nil {
		return fmt.Errorf("encode order for notification: %w", err)
	}
	return s.jobs.InsertTx(ctx, tx, notifyArgs{
		EventID: "order:" + o.ID + ":" + event, Event: int32(kind), UserID: o.CustomerID, Order: raw,
	}, nil)
}

// notifyMove reports the moves shoppers hear about: paid (confirmed) and
// canceled.
func (s *Service) notifyMove(ctx context.Context, tx bun.Tx, o *orderRow, to status) error {
	switch to {
	case paid:
		return s.notify(ctx, tx, o, notificationv1.EventKind_EVENT_KIND_ORDER_CONFIRMED, "confirmed")
	case canceled:
		return s.notify(ctx, tx, o, notificationv1.EventKind_EVENT_KIND_ORDER_CANCELED, "canceled")
	}
	return nil
}

// notifyRefund reports a refund; each new refunded total is its own event.
func (s *Service) notifyRefund(ctx context.Context, tx bun.Tx, o *orderRow) error {
	return s.notify(ctx, tx, o, notificationv1.EventKind_EVENT_KIND_ORDER_REFUNDED, "refunded:"+strconv.FormatInt(o.RefundedTotal, 10))
}

// sendNotification delivers an outbox entry; Notify is idempotent by event
// id, so a retry after a lost answer sends nothing twice.
func (s *Service) sendNotification(ctx context.Context, j *river.Job[notifyArgs]) error {
	if s.notifications == nil {
		// Queued before the notification service was taken out of this
		// deployment: there is nobody to tell.
		return river.JobCancel(errors.New("no notification service is configured"))
	}
	o := new(orderv1.Order)
	if err := protojson.Unmarshal(j.Args.Order, o); err != nil {
		return river.JobCancel(fmt.Errorf("decode order for notification: %w", err))
	}
	_, err := s.notifications.Notify(ctx, &notificationv1.NotifyRequest{
		EventId: j.Args.EventID, Kind: notificationv1.EventKind(j.Args.Event), UserId: j.Args.UserID,
		OccurTime: o.GetUpdateTime(), Subject: &notificationv1.NotifyRequest_Order{Order: o},
	})
	return err
}
