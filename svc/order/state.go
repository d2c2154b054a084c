package order

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// status is an order state; its values are orderv1.OrderStatus's.
type status = orderv1.OrderStatus

const (
	pendingPayment    = orderv1.OrderStatus_ORDER_STATUS_PENDING_PAYMENT
	paid              = orderv1.OrderStatus_ORDER_STATUS_PAID
	fulfilling        = orderv1.OrderStatus_ORDER_STATUS_FULFILLING
	shipped           = orderv1.OrderStatus_ORDER_STATUS_SHIPPED
	delivered         = orderv1.OrderStatus_ORDER_STATUS_DELIVERED
	canceled          = orderv1.OrderStatus_ORDER_STATUS_CANCELED
	refunded          = orderv1.OrderStatus_ORDER_STATUS_REFUNDED
	partiallyRefunded = orderv1.OrderStatus_ORDER_STATUS_PARTIALLY_REFUNDED
)

// transitions is the order state machine: every allowed move. Refund states
// sit beside the fulfilment track: a partially refunded order may still be
// fulfilled, shipped and delivered (its refunded_total keeps the partial
// refund), while canceled and refunded are final.
var transitions = map[status][]status{
	pendingPayment:    {paid, canceled},
	paid:              {fulfilling, canceled, refunded, partiallyRefunded},
	fulfilling:        {shipped, canceled, refunded, partiallyRefunded},
	shipped:           {delivered, refunded, partiallyRefunded},
	delivered:         {refunded, partiallyRefunded},
	partiallyRefunded: {fulfilling, shipped, delivered, partiallyRefunded, refunded},
}

// canMove reports whether the state machine allows from → to.
func canMove(from, to status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// checkMove is canMove as an error a caller understands.
func checkMove(from, to status) error {
	if canMove(from, to) {
		return nil
	}
	return errs.FailedPreconditionf("the order is %s and cannot become %s", statusName(from), statusName(to))
}

// statusName is a status as people write it: "pending payment".
func statusName(s status) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s.String(), "ORDER_STATUS_")), "_", " ")
}

// refundable are the states a refund can start from.
func refundable(s status) bool { return canMove(s, refunded) }

// move changes o's status to `to` in tx, checked against the state
// machine, and records why in its history.
func (s *Service) move(ctx context.Context, tx bun.Tx, o *orderRow, to status, reason, who string) error {
	if err := checkMove(o.Status, to); err != nil {
		return err
	}
	if err := s.record(ctx, tx, o, to, reason, who); err != nil {
		return err
	}
	return s.notifyMove(ctx, tx, o, to)
}

// record writes o (status `to` and any fields the caller changed) with a
// history entry, guarded by o's version so a concurrent change is noticed.
func (s *Service) record(ctx context.Context, tx bun.Tx, o *orderRow, to status, reason, who string) error {
	now := micros(s.now())
	o.History = append(o.History, &statusStep{From: o.Status, To: to, Reason: reason, Actor: who, At: now})
	o.Status, o.UpdatedAt = to, now
	return s.store.updateOrder(ctx, tx, o)
}
