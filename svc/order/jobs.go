package order

import (
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"
	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/money"
)

// The saga's later steps, each a River job inserted in the transaction
// that made it necessary. Every worker may run more than once (a crash
// after its remote call, a retry): each remote call is idempotent and each
// local change checks the order's state first.

// expireArgs is the expiry job earlier versions scheduled per order; the
// expiry sweep (expiry.go) does its work now, and the worker stays for the
// jobs already queued.
type expireArgs struct {
	OrderID string `json:"order_id"`
}

func (expireArgs) Kind() string { return "order_expire" }

type commitArgs struct {
	OrderID string `json:"order_id"`
}

func (commitArgs) Kind() string { return "order_commit_stock" }

type releaseArgs struct {
	OrderID string `json:"order_id"`
}

func (releaseArgs) Kind() string { return "order_release_stock" }

type returnArgs struct {
	OrderID string `json:"order_id"`
}

func (returnArgs) Kind() string { return "order_return_stock" }

// refundArgs refunds whatever is left of an order's payment; Key makes the
// provider refund once per reason.
type refundArgs struct {
	OrderID string `json:"order_id"`
	Key     string `json:"key"`
}

func (refundArgs) Kind() string { return "order_refund" }

func (s *Service) workers() *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[expireArgs]) error {
		return s.expire(ctx, j.Args.OrderID)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[commitArgs]) error {
		return s.commitStock(ctx, j.Args.OrderID)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[releaseArgs]) error {
		return s.giveBackStock(ctx, j.Args.OrderID)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[returnArgs]) error {
		return s.giveBackStock(ctx, j.Args.OrderID)
	}))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, j *river.Job[refundArgs]) error {
		return s.refundRest(ctx, j.Args.OrderID, j.Args.Key)
	}))
	// Always registered: events queued while a notification service was
	// configured must not fail as an unknown kind after it is removed.
	river.AddWorker(w, river.WorkFunc(s.sendNotification))
	return w
}

// expire cancels an order not paid in time. The payment is canceled first,
// at the provider, so it cannot succeed after the order is gone; if it
// already succeeded, the order is paid instead.
func (s *Service) expire(ctx context.Context, id string) error {
	o, err := s.store.order(ctx, id)
	if err != nil {
		return err
	}
	if o.Status != pendingPayment {
		return nil
	}
	if wait := time.UnixMicro(o.ExpiresAt).Sub(s.now()); wait > 0 {
		return river.JobSnooze(wait)
	}
	if o.PaymentID != "" {
		pay, err := s.cancelPayment(ctx, o.PaymentID)
		if err != nil {
			return err
		}
		if pay.GetStatus() == paymentv1.PaymentStatus_PAYMENT_STATUS_SUCCEEDED {
			_, err := s.applyPayment(ctx, id, pay, "payment succeeded")
			return err
		}
	}
	_, err = s.store.changeOrder(ctx, id, func(ctx context.Context, tx bun.Tx, o *orderRow) error {
		if o.Status != pendingPayment {
			return nil
		}
		return s.cancelPending(ctx, tx, o, "not paid in time", "system")
	})
	return err
}

// cancelPayment cancels a payment at the provider, or reports that it
// succeeded and cannot be.
func (s *Service) cancelPayment(ctx context.Context, id string) (*paymentv1.Payment, error) {
	res, err := s.payments.CancelPayment(ctx, &paymentv1.CancelPaymentRequest{Id: id})
	if connect.CodeOf(err) == connect.CodeFailedPrecondition {
		got, gerr := s.payments.GetPayment(ctx, &paymentv1.GetPaymentRequest{Id: id})
		if gerr != nil {
			return nil, gerr
		}
		return got.GetPayment(), nil
	}
	if err != nil {
		return nil, err
	}
	return res.GetPayment(), nil
}

// commitStock makes a paid order's hold final. If the hold is gone (it
// expired before the payment was reported, and the units may be sold to
// someone else), the order cannot be filled: it is canceled and refunded.
func (s *Service) commitStock(ctx context.Context, id string) error {
	o, err := s.store.order(ctx, id)
	if err != nil {
		return err
	}
	if o.Status == canceled {
		return nil // its return or release job settles the stock
	}
	_, err = s.inventory.CommitReservation(ctx, &productv1.CommitReservationRequest{Id: o.ReservationID})
	if connect.CodeOf(err) != connect.CodeFailedPrecondition {
		return err
	}
	s.log.ErrorContext(ctx, "paid order's stock hold was already released; canceling and refunding it", "order", o.ID)
	_, err = s.store.changeOrder(ctx, id, func(ctx context.Context, tx bun.Tx, o *orderRow) error {
		if o.Status != paid {
			return nil
		}
		if err := s.move(ctx, tx, o, canceled, "the items were no longer held when the payment arrived", "system"); err != nil {
			return err
		}
		return s.jobs.InsertTx(ctx, tx, refundArgs{OrderID: o.ID, Key: "cancel"}, nil)
	})
	return err
}

// giveBackStock returns a canceled order's units to stock, whether they
// were only held (release) or already sold (return).
func (s *Service) giveBackStock(ctx context.Context, id string) error {
	o, err := s.store.order(ctx, id)
	if err != nil {
		return err
	}
	_, err = s.inventory.ReturnReservation(ctx, &productv1.ReturnReservationRequest{Id: o.ReservationID})
	if connect.CodeOf(err) == connect.CodeFailedPrecondition { // still held: never sold
		_, err = s.inventory.ReleaseReservation(ctx, &productv1.ReleaseReservationRequest{Id: o.ReservationID})
		if connect.CodeOf(err) == connect.CodeFailedPrecondition {
			// Committed in between by a late commit job: return it next time.
			return errors.New("reservation was committed while being released; retrying the return")
		}
	}
	return err
}

// refundRest refunds whatever of o's payment is not refunded yet, once per
// key, and records it on the order.
func (s *Service) refundRest(ctx context.Context, id, key string) error {
	o, err := s.store.order(ctx, id)
	if err != nil {
		return err
	}
	if o.PaymentID == "" {
		return nil // never paid
	}
	res, err := s.payments.RefundPayment(ctx, &paymentv1.RefundPaymentRequest{
		PaymentId: o.PaymentID, Reason: "order canceled", IdempotencyKey: "order:" + o.ID + ":" + key,
	})
	switch connect.CodeOf(err) {
	case connect.CodeFailedPrecondition: // nothing left to refund, or never succeeded
		s.log.InfoContext(ctx, "nothing to refund", "order", o.ID, "err", err)
		return nil
	case 0:
	default:
		return err
	}
	_, err = s.store.changeOrder(ctx, id, func(ctx context.Context, tx bun.Tx, o *orderRow) error {
		total := res.GetPayment().GetRefunded().GetAmount()
		return s.noteRefund(ctx, tx, o, total, "refunded "+money.Format(total, o.Currency)+" in all", "system")
	})
	return err
}
