package provider

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// The simulator's test cards, as in Stripe's test mode. Their numbers go
// only to CreatePaymentMethod (the browser's side, as with Stripe.js); Confirm
// takes the payment method ids it answers, or Stripe's fixed test ids below.
const (
	TestCardSucceeds    = "4242424242424242"
	TestCardDeclines    = "4000000000000002"
	TestCardRequires3DS = "4000002760003184"
)

// Stripe's test payment method ids for the same three outcomes; the
// simulator and Stripe's test mode (and stripe-mock) both take them.
const (
	TestMethodSucceeds    = "pm_card_visa"
	TestMethodDeclines    = "pm_card_chargeDeclined"
	TestMethodRequires3DS = "pm_card_authenticationRequired"
)

// MethodTypes are the payment method types the shop offers, as Stripe
// names them. Apple Pay and Google Pay are cards to Stripe: its Payment
// Element offers them where the shop's domain is registered.
var MethodTypes = []string{"card"}

type cardOutcome int

const (
	outcomeUnknown cardOutcome = iota
	outcomeSucceed
	outcomeDecline
	outcome3DS
)

// outcomeOf reads Stripe's fixed test ids. Card numbers are not payment
// methods: they are tokenized first (see CreatePaymentMethod).
func outcomeOf(pm string) cardOutcome {
	switch pm {
	case TestMethodSucceeds, "tok_visa":
		return outcomeSucceed
	case TestMethodDeclines, "tok_chargeDeclined":
		return outcomeDecline
	case TestMethodRequires3DS, "tok_threeDSecure2Required":
		return outcome3DS
	}
	return outcomeUnknown
}

// cardOutcomeOf reads a test card number, spaces and dashes allowed.
func cardOutcomeOf(number string) cardOutcome {
	switch strings.NewReplacer(" ", "", "-", "").Replace(number) {
	case TestCardSucceeds:
		return outcomeSucceed
	case TestCardDeclines:
		return outcomeDecline
	case TestCardRequires3DS:
		return outcome3DS
	}
	return outcomeUnknown
}

// SimulatorConfig configures a Simulator. Every field is optional except
// WebhookSecret.
type SimulatorConfig struct {
	// WebhookSecret signs emitted events and verifies them in ParseWebhook.
	WebhookSecret string
	// WebhookURL, when set, receives every event as a signed POST, delivered
	// asynchronously and retried on failure.
	WebhookURL string
	// OnEvent, when set, is called with every event's payload and
	// signature header (for tests and dev wiring): synchronously, in
	// emission order, unless OnEventDelay is set.
	OnEvent func(payload []byte, signatureHeader string)
	// OnEventDelay, when positive, makes each OnEvent call happen this long
	// after its event, on a goroutine of its own, as Stripe sends an event
	// after the API call that caused it has answered; the calls are then
	// concurrent and their order is not kept. Close drops the calls not yet
	// due and waits for those running.
	OnEventDelay time.Duration
	// HTTPClient posts webhooks; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// ActionURL is where 3-D Secure redirects point; default
	// "http://localhost/payment-simulator/3ds".
	ActionURL string
	// DeliveryAttempts (default 5) and RetryBackoff (default 500 ms, doubled
	// each attempt) bound webhook delivery.
	DeliveryAttempts int
	RetryBackoff     time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Retention is how long the simulator remembers an intent after its
	// last change, and an idempotency key after its use; default 7 days.
	// It keeps them in memory only, so a bound keeps a long run's memory
	// flat; Stripe itself keeps intents for ever and keys for 24 hours.
	Retention time.Duration
}

// DefaultSimulatorRetention is SimulatorConfig.Retention's default.
const DefaultSimulatorRetention = 7 * 24 * time.Hour

// Simulator is an in-process payment provider with Stripe's intent states,
// test cards, idempotency and signed webhooks. It is safe for concurrent use.
type Simulator struct {
	cfg     SimulatorConfig
	pmKey   []byte // keys the fingerprints of payment methods, never stored raw
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // deliveries; Add only under closeMu, before Close
	closeMu sync.Mutex

	mu      sync.Mutex
	intents map[string]*simIntent
	idem    map[string]idemEntry
	methods map[string]cardOutcome // payment methods made by CreatePaymentMethod
	order   []string               // their ids, oldest first, to forget the oldest
	touched []touch                // intents and keys as they changed, oldest first
	emitMu  sync.Mutex             // keeps OnEvent calls in emission order
}

type simIntent struct {
	Intent
	orderID  string
	captured int64
	refunded int64
	at       time.Time // last change
}

type idemEntry struct {
	fingerprint string
	intent      Intent
	refund      RefundResult
	err         error
	at          time.Time // when the key was used
}

// touch records that an intent (or, with key set, an idempotency key)
// changed at a moment; forget drops it once Retention has passed since,
// unless it changed again.
type touch struct {
	intent, key string
	at          time.Time
}

// remember stores in as changed now, and the idempotency entry e under key
// when key is not empty. Callers hold s.mu.
func (s *Simulator) remember(in *simIntent, key string, e idemEntry) {
	now := s.cfg.Now()
	s.forget(now)
	if in != nil {
		in.at = now
		s.intents[in.ID] = in
		s.touched = append(s.touched, touch{intent: in.ID, at: now})
	}
	if key != "" {
		e.at = now
		s.idem[key] = e
		s.touched = append(s.touched, touch{key: key, at: now})
	}
}

// forget drops the intents and keys untouched for Retention. Callers hold
// s.mu.
func (s *Simulator) forget(now time.Time) {
	cutoff := now.Add(-s.cfg.Retention)
	n := 0
	for ; n < len(s.touched) && s.touched[n].at.Before(cutoff); n++ {
		t := s.touched[n]
		if in, ok := s.intents[t.intent]; ok && in.at.Equal(t.at) {
			delete(s.intents, t.intent)
		}
		if e, ok := s.idem[t.key]; ok && t.key != "" && e.at.Equal(t.at) {
			delete(s.idem, t.key)
		}
	}
	s.touched = s.touched[n:]
}

var _ Provider = (*Simulator)(nil)

// NewSimulator returns a simulator; Close stops its webhook deliveries.
func NewSimulator(cfg SimulatorConfig) (*Simulator, error) {
	if cfg.WebhookSecret == "" {
		return nil, errs.Invalidf("simulator: webhook secret is required")
	}
	if cfg.WebhookURL != "" {
		if u, err := url.Parse(cfg.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, errs.Invalidf("simulator: webhook URL must be http(s)")
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.ActionURL == "" {
		cfg.ActionURL = "http://localhost/payment-simulator/3ds"
	}
	if cfg.DeliveryAttempts <= 0 {
		cfg.DeliveryAttempts = 5
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 500 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultSimulatorRetention
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Simulator{
		cfg: cfg, pmKey: []byte(randHex(32)), ctx: ctx, cancel: cancel,
		intents: map[string]*simIntent{}, idem: map[string]idemEntry{}, methods: map[string]cardOutcome{},
	}, nil
}

// Close stops pending webhook retries and waits for deliveries in flight.
func (s *Simulator) Close() error {
	s.closeMu.Lock()
	s.cancel()
	s.closeMu.Unlock()
	s.wg.Wait()
	return nil
}

// goDeliver runs a delivery on a goroutine Close waits for; a closed
// simulator delivers nothing. (A WaitGroup must not be added to from zero
// while Close waits on it.)
func (s *Simulator) goDeliver(f func()) {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	s.wg.Go(f)
}

// wait sleeps for d; false when Close came first.
func (s *Simulator) wait(d time.Duration) bool {
	select {
	case <-s.ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// pending is an event built under s.mu and dispatched after it is released.
type pending struct{ payload []byte }

// replay looks an idempotency key up. It reports whether the call is a replay.
func (s *Simulator) replay(key, fp string) (idemEntry, bool, error) {
	e, ok := s.idem[key]
	if !ok {
		return idemEntry{}, false, nil
	}
	if e.fingerprint != fp {
		return idemEntry{}, false, errs.Conflictf("idempotency key %q was used with different parameters", key)
	}
	return e, true, nil
}

func requireKey(key string) error {
	if strings.TrimSpace(key) == "" {
		return errs.Invalidf("idempotency key is required")
	}
	return nil
}

// CreateIntent implements Provider.
func (s *Simulator) CreateIntent(ctx context.Context, req CreateIntent) (Intent, error) {
	if err := validateCreate(req); err != nil {
		return Intent{}, err
	}
	fp := fmt.Sprintf("create|%d|%s|%s", req.Amount, strings.ToLower(req.Currency), req.OrderID)
	s.mu.Lock()
	if e, ok, err := s.replay(req.IdempotencyKey, fp); err != nil || ok {
		s.mu.Unlock()
		return e.intent, firstErr(err, e.err)
	}
	id := "pi_sim_" + randHex(12)
	in := &simIntent{Intent: Intent{
		ID: id, Amount: req.Amount, Currency: strings.ToLower(req.Currency),
		Status: StatusRequiresPaymentMethod, ClientSecret: id + "_secret_" + randHex(12),
	}, orderID: req.OrderID}
	s.remember(in, req.IdempotencyKey, idemEntry{fingerprint: fp, intent: in.Intent})
	evs := []pending{s.intentEvent("payment_intent.created", in)}
	out := in.Intent
	s.mu.Unlock()
	s.dispatch(evs)
	return out, nil
}

func validateCreate(req CreateIntent) error {
	if err := requireKey(req.IdempotencyKey); err != nil {
		return err
	}
	if req.Amount <= 0 {
		return errs.Invalidf("amount must be positive")
	}
	if len(req.Currency) != 3 {
		return errs.Invalidf("currency must be a 3-letter ISO 4217 code")
	}
	for _, r := range req.Currency {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return errs.Invalidf("currency must be a 3-letter ISO 4217 code")
		}
	}
	return nil
}

// Confirm implements Provider. paymentMethod is an id from
// CreatePaymentMethod or one of TestMethodSucceeds and friends.
func (s *Simulator) Confirm(ctx context.Context, intentID, paymentMethod, idempotencyKey string) (Intent, error) {
	if err := requireKey(idempotencyKey); err != nil {
		return Intent{}, err
	}
	outcome := s.methodOutcome(paymentMethod)
	if outcome == outcomeUnknown {
		return Intent{}, errs.Invalidf("unknown payment method: send an id from the simulator's tokenization endpoint (pm_sim_…) or one of Stripe's test ids such as %s", TestMethodSucceeds)
	}
	fp := "confirm|" + intentID + "|" + s.pmFingerprint(paymentMethod)
	s.mu.Lock()
	if e, ok, err := s.replay(idempotencyKey, fp); err != nil || ok {
		s.mu.Unlock()
		return e.intent, firstErr(err, e.err)
	}
	in, ok := s.intents[intentID]
	if !ok {
		s.mu.Unlock()
		return Intent{}, errs.NotFoundf("payment intent %q not found", intentID)
	}
	if in.Status != StatusRequiresPaymentMethod && in.Status != StatusRequiresConfirmation {
		s.mu.Unlock()
		return Intent{}, errs.FailedPreconditionf("payment intent is %s and cannot be confirmed", in.Status)
	}
	var evs []pending
	var err error
	switch outcome {
	case outcomeSucceed:
		in.Status, in.NextAction, in.captured = StatusSucceeded, "", in.Amount
		evs = append(evs, s.intentEvent("payment_intent.succeeded", in))
	case outcomeDecline:
		in.Status, in.NextAction = StatusRequiresPaymentMethod, ""
		err = errs.FailedPreconditionf("card declined")
		evs = append(evs, s.intentEvent("payment_intent.payment_failed", in))
	case outcome3DS:
		in.Status = StatusRequiresAction
		in.NextAction = s.cfg.ActionURL + "?payment_intent=" + url.QueryEscape(in.ID)
		evs = append(evs, s.intentEvent("payment_intent.requires_action", in))
	}
	out := in.Intent
	s.remember(in, idempotencyKey, idemEntry{fingerprint: fp, intent: out, err: err})
	s.mu.Unlock()
	s.dispatch(evs)
	return out, err
}

// Card is what a shopper types into a card form. The simulator reads it
// to pick an outcome and forgets it: only its last four digits stay.
type Card struct {
	Number   string
	ExpMonth int // 1–12; 0 when not given
	ExpYear  int // e.g. 2030; 0 when not given
	CVC      string
}

// PaymentMethod is a tokenized card, as Stripe's PaymentMethod object
// shows one: never its number.
type PaymentMethod struct {
	ID       string // pm_sim_…
	Brand    string // "visa"
	Last4    string
	ExpMonth int
	ExpYear  int
}

// maxMethods bounds how many payment methods the simulator remembers; the
// oldest are forgotten first (a shopper confirms within minutes).
const maxMethods = 10_000

// CardError is a card the simulator will not tokenize, with Stripe's error
// code for it (incorrect_number, card_declined, invalid_expiry_month, …)
// and a message for the shopper.
type CardError struct {
	Code, Param, Message string
}

func (e *CardError) Error() string { return e.Message }

// CreatePaymentMethod turns a test card into a payment method id, as
// Stripe.js does against Stripe's API. Only the simulator's test cards
// (TestCardSucceeds and friends) are taken; anything else is a *CardError.
func (s *Simulator) CreatePaymentMethod(card Card) (PaymentMethod, error) {
	number := strings.NewReplacer(" ", "", "-", "").Replace(card.Number)
	if !luhn(number) {
		return PaymentMethod{}, &CardError{Code: "incorrect_number", Param: "card[number]", Message: "Your card number is incorrect."}
	}
	outcome := cardOutcomeOf(number)
	if outcome == outcomeUnknown {
		return PaymentMethod{}, &CardError{Code: "card_declined", Param: "card[number]",
			Message: "Your card was declined: the payment simulator takes only its test cards (4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined, 4000 0027 6000 3184 asks for 3-D Secure)."}
	}
	if card.ExpMonth != 0 || card.ExpYear != 0 {
		now := s.cfg.Now()
		switch {
		case card.ExpMonth < 1 || card.ExpMonth > 12:
			return PaymentMethod{}, &CardError{Code: "invalid_expiry_month", Param: "card[exp_month]", Message: "Your card's expiration month is invalid."}
		case card.ExpYear < now.Year() || card.ExpYear == now.Year() && card.ExpMonth < int(now.Month()):
			return PaymentMethod{}, &CardError{Code: "invalid_expiry_year", Param: "card[exp_year]", Message: "Your card's expiration year is invalid."}
		}
	}
	if card.CVC != "" && (len(card.CVC) < 3 || len(card.CVC) > 4 || strings.Trim(card.CVC, "0123456789") != "") {
		return PaymentMethod{}, &CardError{Code: "invalid_cvc", Param: "card[cvc]", Message: "Your card's security code is invalid."}
	}
	pm := PaymentMethod{ID: "pm_sim_" + randLetters(24), Brand: "visa", Last4: number[len(number)-4:], ExpMonth: card.ExpMonth, ExpYear: card.ExpYear}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.methods[pm.ID] = outcome
	s.order = append(s.order, pm.ID)
	if len(s.order) > maxMethods {
		delete(s.methods, s.order[0])
		s.order = s.order[1:]
	}
	return pm, nil
}

// methodOutcome reads a payment method id: one of CreatePaymentMethod's or
// one of Stripe's test ids.
func (s *Simulator) methodOutcome(pm string) cardOutcome {
	if strings.HasPrefix(pm, "pm_sim_") {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.methods[pm]
	}
	return outcomeOf(pm)
}

// luhn reports whether number is 12 to 19 digits that pass the Luhn check.
func luhn(number string) bool {
	if len(number) < 12 || len(number) > 19 || strings.Trim(number, "0123456789") != "" {
		return false
	}
	sum := 0
	for i := range len(number) {
		d := int(number[len(number)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// CompleteAction finishes a pending 3-D Secure challenge: approve succeeds
// the payment; otherwise the intent goes back to requires_payment_method.
func (s *Simulator) CompleteAction(intentID string, approve bool) (Intent, error) {
	s.mu.Lock()
	in, ok := s.intents[intentID]
	if !ok {
		s.mu.Unlock()
		return Intent{}, errs.NotFoundf("payment intent %q not found", intentID)
	}
	if in.Status != StatusRequiresAction {
		s.mu.Unlock()
		return Intent{}, errs.FailedPreconditionf("payment intent is %s, not requires_action", in.Status)
	}
	var ev pending
	if approve {
		in.Status, in.NextAction, in.captured = StatusSucceeded, "", in.Amount
		ev = s.intentEvent("payment_intent.succeeded", in)
	} else {
		in.Status, in.NextAction = StatusRequiresPaymentMethod, ""
		ev = s.intentEvent("payment_intent.payment_failed", in)
	}
	s.remember(in, "", idemEntry{})
	out := in.Intent
	s.mu.Unlock()
	s.dispatch([]pending{ev})
	return out, nil
}

// Get implements Provider.
func (s *Simulator) Get(ctx context.Context, intentID string) (Intent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.intents[intentID]
	if !ok {
		return Intent{}, errs.NotFoundf("payment intent %q not found", intentID)
	}
	return in.Intent, nil
}

// Cancel implements Provider.
func (s *Simulator) Cancel(ctx context.Context, intentID, idempotencyKey string) (Intent, error) {
	if err := requireKey(idempotencyKey); err != nil {
		return Intent{}, err
	}
	fp := "cancel|" + intentID
	s.mu.Lock()
	if e, ok, err := s.replay(idempotencyKey, fp); err != nil || ok {
		s.mu.Unlock()
		return e.intent, firstErr(err, e.err)
	}
	in, ok := s.intents[intentID]
	if !ok {
		s.mu.Unlock()
		return Intent{}, errs.NotFoundf("payment intent %q not found", intentID)
	}
	if in.Status == StatusSucceeded || in.Status == StatusCanceled {
		s.mu.Unlock()
		return Intent{}, errs.FailedPreconditionf("payment intent is %s and cannot be canceled", in.Status)
	}
	in.Status, in.NextAction = StatusCanceled, ""
	out := in.Intent
	s.remember(in, idempotencyKey, idemEntry{fingerprint: fp, intent: out})
	evs := []pending{s.intentEvent("payment_intent.canceled", in)}
	s.mu.Unlock()
	s.dispatch(evs)
	return out, nil
}

// Refund implements Provider: full (Amount 0) or partial, never above what
// was captured less what was already refunded.
func (s *Simulator) Refund(ctx context.Context, req Refund) (RefundResult, error) {
	if err := requireKey(req.IdempotencyKey); err != nil {
		return RefundResult{}, err
	}
	if req.Amount < 0 {
		return RefundResult{}, errs.Invalidf("refund amount must not be negative")
	}
	fp := fmt.Sprintf("refund|%s|%d", req.IntentID, req.Amount)
	s.mu.Lock()
	if e, ok, err := s.replay(req.IdempotencyKey, fp); err != nil || ok {
		s.mu.Unlock()
		return e.refund, firstErr(err, e.err)
	}
	in, ok := s.intents[req.IntentID]
	if !ok {
		s.mu.Unlock()
		return RefundResult{}, errs.NotFoundf("payment intent %q not found", req.IntentID)
	}
	if in.Status != StatusSucceeded {
		s.mu.Unlock()
		return RefundResult{}, errs.FailedPreconditionf("payment intent is %s; only succeeded payments can be refunded", in.Status)
	}
	remaining := in.captured - in.refunded
	amount := req.Amount
	if amount == 0 {
		amount = remaining
	}
	if amount == 0 || amount > remaining {
		s.mu.Unlock()
		return RefundResult{}, errs.FailedPreconditionf("refund of %d exceeds the refundable %d %s", amount, remaining, in.Currency)
	}
	in.refunded += amount
	r := RefundResult{ID: "re_sim_" + randHex(12), IntentID: in.ID, Amount: amount, Currency: in.Currency, Status: "succeeded"}
	s.remember(in, req.IdempotencyKey, idemEntry{fingerprint: fp, refund: r})
	evs := []pending{s.event("refund.created", map[string]any{
		"id": r.ID, "object": "refund", "amount": r.Amount, "currency": r.Currency,
		"payment_intent": r.IntentID, "status": r.Status,
	})}
	s.mu.Unlock()
	s.dispatch(evs)
	return r, nil
}

// ParseWebhook implements Provider.
func (s *Simulator) ParseWebhook(payload []byte, signatureHeader string, now time.Time) (Event, error) {
	if err := Verify(payload, signatureHeader, s.cfg.WebhookSecret, now, DefaultTolerance); err != nil {
		return Event{}, err
	}
	return decodeEvent(payload)
}

// wireEvent is the subset of Stripe's event object that we emit and read.
type wireEvent struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	APIVersion string `json:"api_version,omitempty"`
	Created    int64  `json:"created"`
	Type       string `json:"type"`
	Livemode   bool   `json:"livemode"`
	Data       struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// decodeEvent reads an event payload: the intent is data.object.id for a
// payment_intent, data.object.payment_intent for a refund or charge.
func decodeEvent(payload []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(payload, &w); err != nil || w.ID == "" || w.Type == "" {
		return Event{}, errs.Invalidf("webhook payload is not an event")
	}
	return Event{ID: w.ID, Type: w.Type, IntentID: intentIDOf(w.Data.Object), Created: time.Unix(w.Created, 0).UTC()}, nil
}

func intentIDOf(obj json.RawMessage) string {
	var o struct {
		ID            string          `json:"id"`
		Object        string          `json:"object"`
		PaymentIntent json.RawMessage `json:"payment_intent"`
	}
	if json.Unmarshal(obj, &o) != nil {
		return ""
	}
	if o.Object == "payment_intent" {
		return o.ID
	}
	var id string
	if json.Unmarshal(o.PaymentIntent, &id) == nil {
		return id
	}
	var expanded struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(o.PaymentIntent, &expanded)
	return expanded.ID
}

// simAPIVersion is the API version stamped on emitted events; it matches
// the train stripe-go v85 expects, so Stripe.ParseWebhook accepts them too.
const simAPIVersion = "2026-03-25.dahlia"

func (s *Simulator) intentEvent(typ string, in *simIntent) pending {
	obj := map[string]any{
		"id": in.ID, "object": "payment_intent", "amount": in.Amount, "currency": in.Currency,
		"status": in.Status, "metadata": map[string]string{"order_id": in.orderID},
	}
	if in.NextAction != "" {
		obj["next_action"] = map[string]any{"type": "redirect_to_url", "redirect_to_url": map[string]string{"url": in.NextAction}}
	}
	return s.event(typ, obj)
}

// event builds a signed-later event payload; callers hold s.mu.
func (s *Simulator) event(typ string, obj map[string]any) pending {
	raw, _ := json.Marshal(obj) // maps of plain values always marshal
	w := wireEvent{ID: "evt_sim_" + randHex(12), Object: "event", APIVersion: simAPIVersion, Created: s.cfg.Now().Unix(), Type: typ}
	w.Data.Object = raw
	payload, _ := json.Marshal(w)
	return pending{payload: payload}
}

// dispatch hands events to the hook (in order) and to the webhook URL
// (asynchronously, with retries). Each delivery attempt is signed afresh with
// the current time, as Stripe does; the payload, and so the event ID, is the
// same on every attempt.
func (s *Simulator) dispatch(evs []pending) {
	switch {
	case s.cfg.OnEvent != nil && s.cfg.OnEventDelay > 0:
		for _, e := range evs {
			s.goDeliver(func() {
				if s.wait(s.cfg.OnEventDelay) {
					s.cfg.OnEvent(e.payload, Sign(e.payload, s.cfg.WebhookSecret, s.cfg.Now()))
				}
			})
		}
	case s.cfg.OnEvent != nil:
		s.emitMu.Lock()
		for _, e := range evs {
			s.cfg.OnEvent(e.payload, Sign(e.payload, s.cfg.WebhookSecret, s.cfg.Now()))
		}
		s.emitMu.Unlock()
	}
	if s.cfg.WebhookURL == "" {
		return
	}
	for _, e := range evs {
		s.goDeliver(func() { s.deliver(e.payload) })
	}
}

func (s *Simulator) deliver(payload []byte) {
	backoff := s.cfg.RetryBackoff
	for attempt := 1; attempt <= s.cfg.DeliveryAttempts; attempt++ {
		if s.post(payload) {
			return
		}
		if attempt == s.cfg.DeliveryAttempts || !s.wait(backoff) {
			return
		}
		backoff *= 2
	}
}

func (s *Simulator) post(payload []byte) bool {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(payload))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(payload, s.cfg.WebhookSecret, s.cfg.Now()))
	res, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return false
	}
	_ = res.Body.Close()
	return res.StatusCode >= 200 && res.StatusCode < 300
}

// pmFingerprint identifies a payment method for idempotency checks without
// keeping the card number: a keyed hash whose key lives only in memory.
func (s *Simulator) pmFingerprint(pm string) string {
	mac := hmac.New(sha256.New, s.pmKey)
	mac.Write([]byte(pm))
	return hex.EncodeToString(mac.Sum(nil))
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// randLetters is n random lower-case letters: ids that never look like a
// card number, which the API refuses.
func randLetters(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return string(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
