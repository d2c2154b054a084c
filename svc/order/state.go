package order

import (
	"strings"

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
