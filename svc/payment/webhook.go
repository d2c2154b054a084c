package payment

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/svc/payment/provider"
)

// WebhookPath is where the provider posts its webhooks; Mount serves it.
const WebhookPath = "/webhooks/payments"

// maxWebhookBytes caps a webhook body; the provider's events are far smaller.
const maxWebhookBytes = 64 << 10

// serveWebhook answers the provider: 200 when the event is handled (or
// deliberately ignored), 400 when it is not signed by the provider, 413
// when too large, and 503 or 500 when it should be sent again later.
func (s *Service) serveWebhook(w http.ResponseWriter, r *http.Request) {
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "webhook payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read webhook payload", http.StatusBadRequest)
		return
	}
	err = s.ReceiveWebhook(r.Context(), payload, r.Header.Get(provider.SignatureHeader))
	switch {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errs.Is(err, errs.Unauthenticated), errs.Is(err, errs.Invalid):
		msg := safeMessage(err)
		s.log.WarnContext(r.Context(), "payment webhook rejected", "reason", msg)
		http.Error(w, msg, http.StatusBadRequest)
	case errs.Is(err, errs.Unavailable):
		s.log.WarnContext(r.Context(), "payment webhook deferred", "err", err)
		http.Error(w, "payment provider unavailable; send the event again later", http.StatusServiceUnavailable)
	default:
		s.log.ErrorContext(r.Context(), "payment webhook failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// safeMessage is the part of a kinded error meant for the caller.
func safeMessage(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "bad request"
}

// ReceiveWebhook handles one provider webhook: payload as received and the
// value of its Stripe-Signature header. It is what POST WebhookPath calls,
// and what the in-process Simulator's OnEvent should call in dev. OnEvent
// may call it synchronously: the simulator releases its lock before
// dispatching, ReceiveWebhook asks it only for Get (which emits nothing),
// and the service never holds a transaction across a provider call.
//
// An event is verified (errs.Unauthenticated or errs.Invalid when it is not
// the provider's), then, for payment_intent.* events about a payment of
// ours (but payment_intent.created, and any event about a payment already
// succeeded or canceled, which can change nothing), the
// intent's current state is fetched from the provider
// (errs.Unavailable when it cannot be) and applied. Fetching rather than
// trusting the event makes late, repeated and out-of-order events harmless;
// the id of an event that changed the payment is recorded in the
// transaction of that change, so a redelivery of it is answered without
// asking the provider, and an event whose handling failed is handled again
// when the provider resends it. Other events, and events about intents we do not
// know, are ignored.
func (s *Service) ReceiveWebhook(ctx context.Context, payload []byte, signatureHeader string) error {
	ev, err := s.provider.ParseWebhook(payload, signatureHeader, s.now())
	if err != nil {
		return err
	}
	log := s.log.With("event", ev.ID, "type", ev.Type)
	if !strings.HasPrefix(ev.Type, "payment_intent.") || ev.IntentID == "" {
		log.DebugContext(ctx, "payment webhook ignored: not about a payment intent")
		return nil
	}
	if ev.Type == "payment_intent.created" {
		// Every intent is created by CreatePayment, which records it as the
		// provider answered, and every later change of its state comes with
		// an event of its own: this one can change nothing, so it costs
		// neither a read nor a call to the provider.
		log.DebugContext(ctx, "payment webhook ignored: an intent's creation changes nothing")
		return nil
	}
	p, err := s.store.paymentByIntent(ctx, ev.IntentID)
	if errs.Is(err, errs.NotFound) {
		log.InfoContext(ctx, "payment webhook ignored: unknown payment intent", "intent", ev.IntentID)
		return nil
	}
	if err != nil {
		return err
	}
	if terminal(p.Status) {
		// Succeeded and canceled are final (foldIntent): no report about
		// the intent can change the payment any more. The usual case: the
		// confirm that caused the event has recorded its outcome.
		log.DebugContext(ctx, "payment webhook ignored: the payment is final", "payment", p.ID)
		return nil
	}
	if handled, err := s.store.webhookHandled(ctx, ev.ID); err != nil || handled {
		return err
	}
	in, err := s.provider.Get(ctx, ev.IntentID)
	if err != nil {
		return &errs.Error{Kind: errs.Unavailable, Message: "payment provider unavailable", Err: err}
	}
	if next := *p; foldIntent(&next, in, false) == nil && next == *p {
		// Nothing to change (the usual case: the confirm that caused the
		// event recorded its outcome already); a redelivery finds the same.
		return nil
	}
	return s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// The payment's lock comes first: the confirm that caused the event
		// may be recording it right now, and once it has, there is nothing
		// left to change, nor to remember.
		_, changed, err := s.applyTx(ctx, tx, p.ID, change{intent: &in})
		if err != nil || !changed {
			return err
		}
		return s.store.recordWebhook(ctx, tx, &webhookEventRow{ID: ev.ID, Type: ev.Type, ReceivedAt: micros(s.now())})
	})
}
