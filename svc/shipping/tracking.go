package shipping

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// applyTracking folds what a carrier says about a shipment into it, in one
// transaction: new events are recorded (ones seen before are skipped), and
// the status becomes the carrier's (or, when it gives none but gives
// events, its newest event's) unless the shipment is already final. A move to delivered puts
// the delivered jobs in the outbox. Repeating the same tracking changes
// nothing.
func (s *Service) applyTracking(ctx context.Context, id string, status TrackingStatus, events []TrackingEvent) error {
	now := micros(s.now())
	return s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		cur, err := s.store.lockShipment(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Status == statusVoided || cur.Status == statusPending {
			// A voided label's scans, or a label we have not finished
			// recording, change nothing.
			return s.store.notePolled(ctx, tx, id, now, 0)
		}
		rows := make([]*eventRow, 0, len(events))
		for _, e := range events {
			st := statusOf(e.Status)
			if st == 0 || e.Time.IsZero() {
				continue
			}
			rows = append(rows, &eventRow{ShipmentID: id, At: micros(e.Time), Status: st,
				Description: clip(e.Description, 500), Location: clip(e.Location, 200)})
		}
		if err := s.store.addEvents(ctx, tx, rows); err != nil {
			return err
		}
		next := statusOf(status)
		if next == 0 && len(events) > 0 {
			// The carrier answered with scans but no status of its own:
			// its newest scan says. With neither (a poll that failed)
			// the status stays.
			latest, err := s.store.latestEventStatus(ctx, tx, id)
			if err != nil {
				return err
			}
			next = latest
		}
		if next == 0 || next == cur.Status || finalStatus(cur.Status) {
			return s.store.notePolled(ctx, tx, id, now, 0)
		}
		if err := s.store.notePolled(ctx, tx, id, now, next); err != nil {
			return err
		}
		if next == statusDelivered {
			return s.delivered(ctx, tx, id, cur.OrderID)
		}
		return nil
	})
}

// clip makes carrier text storable: without NULs, at most n bytes, valid
// UTF-8.
func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\x00", "") // no column stores a NUL
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// PollTracking asks the carriers about the parcels on their way that were
// asked about longest ago (a batch of Deps.TrackBatch) and applies what
// they say. The periodic poll job calls it every Deps.TrackInterval. A
// carrier that fails is logged and asked again next time; the error is for
// the database failing. It returns how many parcels it asked about.
func (s *Service) PollTracking(ctx context.Context) (int, error) {
	if err := s.shipments(); err != nil {
		return 0, err
	}
	rows, err := s.store.dueForPoll(ctx, s.trackBatch)
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		var tr Tracking
		carrier, ok := s.labelCarriers[r.Carrier]
		if !ok {
			err = fmt.Errorf("carrier %q is not configured here", r.Carrier)
		} else {
			tr, err = carrier.Track(ctx, r.TrackingNumber)
		}
		if err != nil {
			s.log.WarnContext(ctx, "could not track a parcel", "shipment", r.ID, "carrier", r.Carrier, "err", err)
			// Still note the attempt, so one failing parcel does not keep
			// the rest of the queue waiting.
			if err := s.applyTracking(ctx, r.ID, TrackingUnknown, nil); err != nil {
				return 0, err
			}
			continue
		}
		if err := s.applyTracking(ctx, r.ID, tr.Status, tr.Events); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

// WebhookPath is where carriers push tracking updates, followed by the
// carrier's name: POST /webhooks/carriers/ups.
const WebhookPath = "/webhooks/carriers/"

// SignatureHeader carries a push's signature: "t=<unix seconds>,v1=<hex
// HMAC-SHA256 of "<t>.<body>" under the webhook secret>".
const SignatureHeader = "Emporium-Signature"

// maxWebhookBytes caps a push's body.
const maxWebhookBytes = 64 << 10

// webhookTolerance is how old (or early) a signed push may be, against
// replays.
const webhookTolerance = 5 * time.Minute

// TrackingPush is the body of a carrier tracking push. Status and each
// event's status are "label_created", "in_transit", "out_for_delivery",
// "delivered", "exception" or "returned".
type TrackingPush struct {
	TrackingNumber string        `json:"tracking_number"`
	Status         string        `json:"status,omitempty"`
	Events         []PushedEvent `json:"events"`
}

// PushedEvent is one scan in a TrackingPush.
type PushedEvent struct {
	Time        time.Time `json:"time"`
	Status      string    `json:"status"`
	Description string    `json:"description"`
	Location    string    `json:"location,omitempty"`
}

var pushStatuses = map[string]TrackingStatus{
	"label_created": TrackingLabelCreated, "in_transit": TrackingInTransit, "out_for_delivery": TrackingOutForDelivery,
	"delivered": TrackingDelivered, "exception": TrackingException, "returned": TrackingReturned,
}

// SignWebhook is the SignatureHeader value for body pushed at t.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(webhookMAC(secret, ts, body))
}

func webhookMAC(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// checkSignature verifies a push's SignatureHeader value.
func (s *Service) checkSignature(header string, body []byte) error {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errs.Unauthenticatedf("missing or malformed %s header", SignatureHeader)
	}
	if d := s.now().Sub(time.Unix(sec, 0)); d > webhookTolerance || d < -webhookTolerance {
		return errs.Unauthenticatedf("signature timestamp is outside the tolerance of %s", webhookTolerance)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, webhookMAC(s.webhookSecret, ts, body)) {
		return errs.Unauthenticatedf("signature does not match")
	}
	return nil
}

// serveWebhook answers a carrier push: 200 when applied (or about a parcel
// we do not know), 400 when unsigned, badly signed or malformed (changing
// nothing), 404 for a carrier not configured, 413 when too large, and 500
// when it should be sent again.
func (s *Service) serveWebhook(w http.ResponseWriter, r *http.Request) {
	carrier := r.PathValue("carrier")
	if _, ok := s.labelCarriers[carrier]; !ok {
		http.Error(w, "unknown carrier", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "webhook payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read webhook payload", http.StatusBadRequest)
		return
	}
	err = s.ReceiveWebhook(r.Context(), carrier, body, r.Header)
	switch {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errs.Is(err, errs.Unauthenticated), errs.Is(err, errs.Invalid):
		msg := safeMessage(err)
		s.log.WarnContext(r.Context(), "carrier webhook rejected", "carrier", carrier, "reason", msg)
		http.Error(w, msg, http.StatusBadRequest)
	default:
		s.log.ErrorContext(r.Context(), "carrier webhook failed", "carrier", carrier, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// ReceiveWebhook handles one tracking push from carrier: its body and
// request header. A carrier that is a PushReader reads its own format (UPS
// Track Alert, authenticated by its credential header); other pushes are
// TrackingPush bodies signed in SignatureHeader. A push that is not
// authentic is errs.Unauthenticated, a malformed one errs.Invalid; either
// changes nothing. A push about a tracking number we do not know is
// ignored.
func (s *Service) ReceiveWebhook(ctx context.Context, carrier string, body []byte, header http.Header) error {
	if err := s.shipments(); err != nil {
		return err
	}
	if s.webhookSecret == "" {
		return errs.Unauthenticatedf("carrier webhooks are not configured (no webhook secret)")
	}
	var (
		number string
		status TrackingStatus
		events []TrackingEvent
		err    error
	)
	if r, ok := s.labelCarriers[carrier].(PushReader); ok {
		number, events, err = r.ReadPush(header, body, s.webhookSecret)
	} else {
		number, status, events, err = s.readSignedPush(header.Get(SignatureHeader), body)
	}
	if err != nil {
		return err
	}
	if strings.ContainsRune(number, 0) {
		return errs.Invalidf("the tracking number contains a NUL character")
	}
	id, err := s.store.shipmentByTracking(ctx, carrier, number)
	if errs.Is(err, errs.NotFound) {
		s.log.InfoContext(ctx, "carrier webhook ignored: unknown tracking number", "carrier", carrier)
		return nil
	}
	if err != nil {
		return err
	}
	return s.applyTracking(ctx, id, status, events)
}

// readSignedPush checks and decodes a push in the service's own format.
func (s *Service) readSignedPush(signature string, body []byte) (string, TrackingStatus, []TrackingEvent, error) {
	if err := s.checkSignature(signature, body); err != nil {
		return "", 0, nil, err
	}
	var push TrackingPush
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&push); err != nil {
		return "", 0, nil, errs.Invalidf("webhook body is not a tracking push: %v", err)
	}
	if push.TrackingNumber == "" {
		return "", 0, nil, errs.Invalidf("tracking_number is required")
	}
	var status TrackingStatus
	if push.Status != "" {
		st, ok := pushStatuses[push.Status]
		if !ok {
			return "", 0, nil, errs.Invalidf("status %q is not a tracking status", push.Status)
		}
		status = st
	}
	events := make([]TrackingEvent, 0, len(push.Events))
	for i, e := range push.Events {
		st, ok := pushStatuses[e.Status]
		if !ok {
			return "", 0, nil, errs.Invalidf("events[%d].status %q is not a tracking status", i, e.Status)
		}
		if e.Time.IsZero() {
			return "", 0, nil, errs.Invalidf("events[%d].time is required", i)
		}
		events = append(events, TrackingEvent{Time: e.Time, Status: st, Description: e.Description, Location: e.Location})
	}
	return push.TrackingNumber, status, events, nil
}
