package notification

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/notification/channel"
)

// deliverArgs is the job that sends one delivery.
type deliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind implements river.JobArgs.
func (deliverArgs) Kind() string { return "notification_deliver" }

// work sends one delivery: claim it (sending, one more attempt), call the
// provider, record the outcome. Each step commits on its own, so a worker
// that dies leaves the delivery in the state that tells the next run what
// happened.
func (s *Service) work(ctx context.Context, job *river.Job[deliverArgs]) error {
	d, err := s.claim(ctx, job.Args.DeliveryID)
	if err != nil || d == nil {
		return err
	}
	providerID, sendErr := s.send(ctx, d)
	// The outcome is recorded even when the job's context ended meanwhile:
	// a message the provider took must be marked sent.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if sendErr == nil {
		s.afterSend(d.ID)
		return s.finish(rec, d, statusSent, outcomeSent, providerID, "")
	}
	msg := sendErr.Error()
	switch {
	case channel.IsPermanent(sendErr):
		s.log.WarnContext(ctx, "delivery failed for good", "delivery", d.ID, "attempt", d.Attempts, "err", msg)
		return s.finish(rec, d, statusDead, outcomeDead, "", msg)
	case channel.IsUnconfirmed(sendErr):
		// Sending it again could deliver it twice; recorded as an attempt
		// without its outcome, as when a worker dies mid-send.
		s.log.WarnContext(ctx, "the provider's answer to a delivery was lost; not sending again", "delivery", d.ID, "attempt", d.Attempts, "err", msg)
		return s.finishUnconfirmed(rec, d, fmt.Sprintf("%s (%s)", unconfirmedReason, msg))
	case job.Attempt >= job.MaxAttempts:
		s.log.WarnContext(ctx, "delivery out of attempts", "delivery", d.ID, "attempt", d.Attempts, "err", msg)
		return s.finish(rec, d, statusDead, outcomeDead, "", fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, msg))
	}
	if err := s.finish(rec, d, statusRetrying, outcomeFailed, "", msg); err != nil {
		return errors.Join(sendErr, err)
	}
	return sendErr // River retries with backoff
}

// claim marks a delivery sending and counts the attempt, or returns nil
// when there is nothing to send: it was sent, it is dead, or an earlier
// run died between sending and recording (then it becomes dead as
// unconfirmed rather than risk a second copy).
func (s *Service) claim(ctx context.Context, id string) (*deliveryRow, error) {
	var out *deliveryRow
	err := s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		d, err := s.store.lockDelivery(ctx, tx, id)
		if errs.Is(err, errs.NotFound) {
			return nil // gone: nothing to do
		}
		if err != nil {
			return err
		}
		now := micros(s.now())
		switch d.Status {
		case statusSent, statusDead:
			return nil
		case statusSending:
			s.log.WarnContext(ctx, "a delivery attempt ended without its outcome; not sending again", "delivery", d.ID, "attempt", d.Attempts)
			return s.markUnconfirmed(ctx, tx, d, unconfirmedReason)
		}
		d.Status, d.Attempts, d.UpdatedAt = statusSending, d.Attempts+1, now
		if err := s.store.updateDelivery(ctx, tx, d, nil); err != nil {
			return err
		}
		out = d
		return nil
	})
	return out, err
}

// unconfirmedReason is the last error of a delivery left dead because
// nobody knows whether the provider took it.
const unconfirmedReason = "attempt ended without recording whether the provider took the message; check it was received before retrying"

// markUnconfirmed leaves d dead with an unconfirmed attempt, inside tx.
func (s *Service) markUnconfirmed(ctx context.Context, tx bun.Tx, d *deliveryRow, reason string) error {
	now := micros(s.now())
	d.Status, d.UpdatedAt, d.LastError = statusDead, now, reason
	return s.store.updateDelivery(ctx, tx, d, &attemptRow{Attempt: d.Attempts, At: now, Outcome: outcomeUnconfirmed, Error: reason})
}

// finishUnconfirmed records that an attempt's outcome is unknown.
func (s *Service) finishUnconfirmed(ctx context.Context, d *deliveryRow, reason string) error {
	return s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.markUnconfirmed(ctx, tx, d, reason)
	})
}

// send hands a delivery to its channel.
func (s *Service) send(ctx context.Context, d *deliveryRow) (string, error) {
	switch d.Channel {
	case channelEmail:
		return s.email.SendEmail(ctx, channel.Email{ID: d.ID, To: d.Recipient, Subject: d.Subject, Text: d.Text, HTML: d.HTML})
	case channelSMS:
		if s.sms == nil {
			return "", channel.Permanent(errors.New("no SMS channel is configured"))
		}
		return s.sms.SendSMS(ctx, channel.SMS{ID: d.ID, To: d.Recipient, Body: d.Text})
	}
	return "", channel.Permanent(fmt.Errorf("unknown channel %d", d.Channel))
}

// finish records an attempt's outcome.
func (s *Service) finish(ctx context.Context, d *deliveryRow, status int32, outcome, providerID, failure string) error {
	now := micros(s.now())
	d.Status, d.UpdatedAt, d.LastError = status, now, failure
	if status == statusSent {
		d.ProviderID, d.SentAt = providerID, now
	}
	return s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.store.updateDelivery(ctx, tx, d, &attemptRow{
			Attempt: d.Attempts, At: now, Outcome: outcome, ProviderID: providerID, Error: failure,
		})
	})
}
