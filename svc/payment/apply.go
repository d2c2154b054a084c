package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"google.golang.org/protobuf/encoding/protojson"

	paymentv1 "github.com/emporiumhq/emporium/gen/emporium/payment/v1"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

// recordTimeout bounds recording what the provider did, which goes on when
// the caller that asked for it has gone (the provider acted all the same).
const recordTimeout = 15 * time.Second

// change is what apply folds into a payment: the provider's latest view of
// its intent, a refund's settlement, or both.
type change struct {
	// intent is the provider's current view of the payment's intent.
	intent *provider.Intent
	// declined marks intent as the state a declined confirm left.
	declined bool
	// refund settles a pending refund of the payment.
	refund *settlement
}

// settlement is the provider's final answer to a refund.
type settlement struct {
	refundID         string
	providerRefundID string // the provider's id, when it succeeded
	refused          bool   // refused: its amount is refundable again
}

// apply folds c into the payment, in a transaction of its own. It is the
// one way a payment changes after it is created; see applyTx.
func (s *Service) apply(ctx context.Context, paymentID string, c change) (*paymentRow, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var p *paymentRow
	err := s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) (err error) {
		p, _, err = s.applyTx(ctx, tx, paymentID, c)
		return err
	})
	return p, err
}

// applyRead is apply for payment read, which the caller has just read (not
// locked): c is folded into a copy of it in a transaction without reading
// it again, since the write is guarded by the version read. When the
// payment changed meanwhile, or c changes nothing on the row read (that
// may rest on what changed), it is applied as apply applies it.
func (s *Service) applyRead(ctx context.Context, read *paymentRow, c change) (*paymentRow, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	p := *read
	err := s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		changed, err := s.fold(ctx, tx, &p, c)
		if err == nil && !changed {
			return errStalePayment // decide again on the locked row
		}
		return err
	})
	if errors.Is(err, errStalePayment) {
		return s.apply(ctx, read.ID, c)
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// applyTx folds c into the payment inside tx, with the payment's row
// locked (see fold).
func (s *Service) applyTx(ctx context.Context, tx bun.Tx, paymentID string, c change) (p *paymentRow, changed bool, err error) {
	p, err = s.store.lockPayment(ctx, tx, paymentID)
	if err != nil {
		return nil, false, err
	}
	changed, err = s.fold(ctx, tx, p, c)
	if err != nil {
		return nil, false, err
	}
	return p, changed, nil
}

// fold folds c into payment p inside tx. When that really changes the
// payment it writes it, guarded by the version p was read at
// (errStalePayment when it moved on), bumps its version and reports
// changed; when it changes what the order service sees (the status, or
// the sum of succeeded refunds) it puts a PaymentEvent in the outbox, in
// tx.
func (s *Service) fold(ctx context.Context, tx bun.Tx, p *paymentRow, c change) (changed bool, err error) {
	before := *p
	if c.intent != nil {
		if err := foldIntent(p, *c.intent, c.declined); err != nil {
			return false, err
		}
	}
	if c.refund != nil {
		if err := s.settleRefund(ctx, tx, p, *c.refund); err != nil {
			return false, err
		}
	}
	if *p == before {
		return false, nil
	}
	p.Version++
	p.UpdatedAt = micros(s.now())
	if err := s.store.updatePayment(ctx, tx, p, before.Version); err != nil {
		return false, err
	}
	if p.Status != before.Status || p.succeededRefunds() != before.succeededRefunds() {
		if err := s.publish(ctx, tx, p); err != nil {
			return false, err
		}
	}
	return true, nil
}

// foldIntent moves p to the intent's state where that is allowed. The open
// statuses (requires_payment_method, requires_action, processing) move
// among themselves or on to succeeded or canceled; succeeded and canceled
// are final, so a stale or out-of-order report never undoes them.
func foldIntent(p *paymentRow, in provider.Intent, declined bool) error {
	next, err := statusOf(in.Status)
	if err != nil {
		return err
	}
	if terminal(p.Status) {
		return nil
	}
	prev := p.Status
	p.Status = next
	p.NextActionURL = in.NextAction
	switch {
	case declined:
		p.LastError = msgDeclined
	case next == statusRequiresPaymentMethod && prev == statusRequiresAction:
		p.LastError = msgAuthFailed
	case next != statusRequiresPaymentMethod:
		p.LastError = ""
	}
	return nil
}

// settleRefund records a refund's outcome on p and on the refund, once:
// the RPC, the refund job and their retries may all report it.
func (s *Service) settleRefund(ctx context.Context, tx bun.Tx, p *paymentRow, st settlement) error {
	r, err := s.store.lockRefund(ctx, tx, st.refundID)
	if err != nil {
		return err
	}
	if r.Status != refundPending {
		return nil
	}
	p.RefundPending -= r.Amount
	if st.refused {
		r.Status = refundFailed
		p.Refunded -= r.Amount
	} else {
		r.Status = refundSucceeded
		r.ProviderRefundID = st.providerRefundID
	}
	r.UpdatedAt = micros(s.now())
	return s.store.updateRefund(ctx, tx, r)
}

// publish puts p's new state in the outbox, in the transaction of the
// change. Its event id is the payment's id and version, unique per change.
// The client secret stays out: no consumer needs it, and events are kept
// (River's jobs) and may be logged where they fail.
func (s *Service) publish(ctx context.Context, tx bun.Tx, p *paymentRow) error {
	pay := p.toProto()
	pay.ClientSecret = ""
	ev := &paymentv1.PaymentEvent{EventId: p.ID + ":" + strconv.FormatInt(p.Version, 10), Payment: pay}
	raw, err := protojson.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode payment event: %w", err)
	}
	return s.jobs.InsertTx(ctx, tx, eventArgs{Event: raw}, nil)
}

// eventArgs is an outbox entry: one PaymentEvent, in protojson.
type eventArgs struct {
	Event json.RawMessage `json:"event"`
}

// Kind implements river.JobArgs.
func (eventArgs) Kind() string { return "payment_event" }

// eventWorker delivers outbox entries to Outcomes.
type eventWorker struct {
	river.WorkerDefaults[eventArgs]
	outcomes Outcomes
}

// Work delivers the event the job carries; an error from Outcomes makes
// River retry with backoff.
func (w *eventWorker) Work(ctx context.Context, job *river.Job[eventArgs]) error {
	ev := new(paymentv1.PaymentEvent)
	if err := protojson.Unmarshal(job.Args.Event, ev); err != nil {
		return river.JobCancel(fmt.Errorf("decode payment event: %w", err)) // no retry can fix it
	}
	if err := w.outcomes.ApplyPaymentEvent(ctx, ev); err != nil {
		return fmt.Errorf("deliver payment event %s: %w", ev.GetEventId(), err)
	}
	return nil
}
