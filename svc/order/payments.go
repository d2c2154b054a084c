package order

import (
	"context"

	"github.com/uptrace/bun"

	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/internal/platform/money"
)

// ApplyPaymentEvent implements OrderService: the payment service's outbox
// reports a payment's state after a change. Events repeat and arrive out of
// order; only the state each carries matters (see applyPayment).
func (s *Service) ApplyPaymentEvent(ctx context.Context, req *orderv1.ApplyPaymentEventRequest) (*orderv1.ApplyPaymentEventResponse, error) {
	pay := req.GetEvent().GetPayment()
	// Most reports repeat what the order already shows (PayOrder recorded
	// the outcome first): answer those after one read, without a transaction.
	o, err := s.store.order(ctx, pay.GetOrderId())
	if err != nil {
		return nil, err
	}
	if !reflects(o, pay) {
		if o, err = s.applyReadPayment(ctx, o, pay, ""); err != nil {
			return nil, err
		}
	}
	return &orderv1.ApplyPaymentEventResponse{Order: o.toProto()}, nil
}

// applyPayment brings order id in line with payment pay (nil: an order with
// nothing to pay, paid by definition). It compares states rather than
// remembering event ids: a success on a paid order, a cancel on a canceled
// one or a refund total already recorded change nothing, so however many
// times, ways and orders a payment is reported, the order is paid once and
// its stock committed once.
func (s *Service) applyPayment(ctx context.Context, id string, pay *paymentv1.Payment, reason string) (*orderRow, error) {
	return s.store.changeOrder(ctx, id, s.paymentChange(pay, reason, false))
}

// applyReadPayment is applyPayment for order o, just read by the caller
// (PayOrder, or the payment's event). A success for an unpaid order
// commits its stock hold first (commitHold), so that marking it paid
// queues no commit job; whichever of the two comes first does it, and
// the other finds the order paid or the hold committed already.
func (s *Service) applyReadPayment(ctx context.Context, o *orderRow, pay *paymentv1.Payment, reason string) (*orderRow, error) {
	committed := false
	if pay.GetStatus() == paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED && o.Status == pendingPayment {
		committed = s.commitHold(ctx, o)
		s.crash("pay.committed")
	}
	return s.store.changeReadOrder(ctx, o, s.paymentChange(pay, reason, committed))
}

// paymentChange is the change that brings an order in line with pay.
func (s *Service) paymentChange(pay *paymentv1.Payment, reason string, stockCommitted bool) func(ctx context.Context, tx bun.Tx, o *orderRow) error {
	return func(ctx context.Context, tx bun.Tx, o *orderRow) error {
		if pay != nil && o.PaymentID != "" && o.PaymentID != pay.GetId() {
			s.log.WarnContext(ctx, "payment event for a payment the order does not use; ignored", "order", o.ID, "payment", pay.GetId())
			return nil
		}
		status := paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED
		if pay != nil {
			status, o.PaymentID = pay.GetStatus(), pay.GetId()
		}
		who := actor(ctx)
		switch status {
		case paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED:
			switch o.Status {
			case pendingPayment:
				if reason == "" {
					reason = "payment succeeded"
				}
				if err := s.move(ctx, tx, o, paid, reason, who); err != nil {
					return err
				}
				if !stockCommitted {
					if err := s.jobs.InsertTx(ctx, tx, commitArgs{OrderID: o.ID}, nil); err != nil {
						return err
					}
				}
			case canceled:
				// Paid after it was canceled (the shopper paid as it expired):
				// the money goes back.
				s.log.WarnContext(ctx, "payment succeeded for a canceled order; refunding it", "order", o.ID)
				if err := s.jobs.InsertTx(ctx, tx, refundArgs{OrderID: o.ID, Key: "paid-after-cancel"}, nil); err != nil {
					return err
				}
			}
		case paymentv1.PaymentStatus_PAYMENT_STATUS_CANCELED:
			if o.Status == pendingPayment {
				why := "payment canceled"
				if micros(s.now()) >= o.ExpiresAt { // canceled by the expiry sweep
					why, who = "not paid in time", "system"
				}
				if err := s.cancelPending(ctx, tx, o, why, who); err != nil {
					return err
				}
			}
		}
		if r := pay.GetRefunded().GetAmount(); r > o.RefundedTotal {
			return s.noteRefund(ctx, tx, o, r, "refunded "+money.Format(r, o.Currency)+" in all", who)
		}
		return nil
	}
}

// cancelPending cancels an unpaid order: its hold goes back to stock and its
// discount code can be used again.
func (s *Service) cancelPending(ctx context.Context, tx bun.Tx, o *orderRow, reason, who string) error {
	if err := s.move(ctx, tx, o, canceled, reason, who); err != nil {
		return err
	}
	if err := s.unredeem(ctx, tx, o); err != nil {
		return err
	}
	return s.jobs.InsertTx(ctx, tx, releaseArgs{OrderID: o.ID}, nil)
}

// cancelPaid cancels a paid order before it ships: its units return to
// stock and its payment is refunded in full.
func (s *Service) cancelPaid(ctx context.Context, tx bun.Tx, o *orderRow, reason, who string) error {
	if err := s.move(ctx, tx, o, canceled, reason, who); err != nil {
		return err
	}
	if err := s.unredeem(ctx, tx, o); err != nil {
		return err
	}
	if err := s.jobs.InsertTx(ctx, tx, returnArgs{OrderID: o.ID}, nil); err != nil {
		return err
	}
	return s.jobs.InsertTx(ctx, tx, refundArgs{OrderID: o.ID, Key: "cancel"}, nil)
}

func (s *Service) unredeem(ctx context.Context, tx bun.Tx, o *orderRow) error {
	if o.DiscountID == "" {
		return nil
	}
	return s.store.unredeem(ctx, tx, o.DiscountID)
}

// noteRefund records that total has been refunded on o in all. A refundable
// order becomes refunded or partially refunded; a canceled one stays
// canceled, with the refund in its history.
func (s *Service) noteRefund(ctx context.Context, tx bun.Tx, o *orderRow, total int64, reason, who string) error {
	if total <= o.RefundedTotal {
		return nil
	}
	o.RefundedTotal = total
	var err error
	if !refundable(o.Status) {
		err = s.record(ctx, tx, o, o.Status, reason, who)
	} else {
		to := partiallyRefunded
		if total >= o.Total {
			to = refunded
		}
		err = s.move(ctx, tx, o, to, reason, who)
	}
	if err != nil {
		return err
	}
	return s.notifyRefund(ctx, tx, o)
}

// reflects reports whether order o already shows everything payment pay
// can change about it, so applying pay would change nothing.
func reflects(o *orderRow, pay *paymentv1.Payment) bool {
	if o.PaymentID != pay.GetId() || pay.GetRefunded().GetAmount() > o.RefundedTotal {
		return false
	}
	switch pay.GetStatus() {
	case paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED:
		return o.Status != pendingPayment && o.Status != canceled
	case paymentv1.PaymentStatus_PAYMENT_STATUS_CANCELED:
		return o.Status != pendingPayment
	}
	return true // an open payment changes nothing on the order
}
