package provider

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/google/go-cmp/cmp"
)

// eventLog collects the events a simulator emits through its hook.
type eventLog struct {
	mu     sync.Mutex
	events []Event
	raw    [][]byte
}

func newTestSimulator(t *testing.T) (*Simulator, *eventLog) {
	t.Helper()
	log := &eventLog{}
	var sim *Simulator
	sim, err := NewSimulator(SimulatorConfig{WebhookSecret: "whsec_sim", OnEvent: func(payload []byte, header string) {
		ev, err := sim.ParseWebhook(payload, header, time.Now())
		if err != nil {
			t.Errorf("emitted event does not verify: %v", err)
		}
		log.mu.Lock()
		log.events = append(log.events, ev)
		log.raw = append(log.raw, payload)
		log.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, log
}

func (l *eventLog) types() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		out = append(out, e.Type)
	}
	return out
}

func TestSimulatorConfirm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		card       string    // a card number tokenized with CreatePaymentMethod, or
		method     string    // the payment method sent as it is
		wantKind   errs.Kind // Internal means no error
		wantStatus Status
		wantAction bool
		wantEvents []string
	}{
		{"a tokenized test card succeeds", "4242 4242 4242 4242", "", errs.Internal, StatusSucceeded, false,
			[]string{"payment_intent.created", "payment_intent.succeeded"}},
		{"declines", TestCardDeclines, "", errs.FailedPrecondition, StatusRequiresPaymentMethod, false,
			[]string{"payment_intent.created", "payment_intent.payment_failed"}},
		{"requires 3-D Secure", TestCardRequires3DS, "", errs.Internal, StatusRequiresAction, true,
			[]string{"payment_intent.created", "payment_intent.requires_action"}},
		{"stripe test ids work too", "", TestMethodDeclines, errs.FailedPrecondition, StatusRequiresPaymentMethod, false,
			[]string{"payment_intent.created", "payment_intent.payment_failed"}},
		{"a card number is not a payment method", "", TestCardSucceeds, errs.Invalid, StatusRequiresPaymentMethod, false,
			[]string{"payment_intent.created"}},
		{"an unknown id is invalid", "", "pm_sim_nosuchmethod", errs.Invalid, StatusRequiresPaymentMethod, false,
			[]string{"payment_intent.created"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, log := newTestSimulator(t)
			ctx := context.Background()
			in, err := sim.CreateIntent(ctx, CreateIntent{Amount: 2000, Currency: "usd", OrderID: "o1", IdempotencyKey: "c"})
			if err != nil {
				t.Fatal(err)
			}
			method := tt.method
			if tt.card != "" {
				pm, err := sim.CreatePaymentMethod(Card{Number: tt.card})
				if err != nil {
					t.Fatalf("CreatePaymentMethod: %v", err)
				}
				if !strings.HasPrefix(pm.ID, "pm_sim_") || pm.Last4 != tt.card[len(tt.card)-4:] || pm.Brand != "visa" {
					t.Errorf("payment method %+v", pm)
				}
				method = pm.ID
			}
			got, err := sim.Confirm(ctx, in.ID, method, "k")
			if tt.wantKind == errs.Internal && err != nil || tt.wantKind != errs.Internal && !errs.Is(err, tt.wantKind) {
				t.Fatalf("Confirm err = %v, want kind %v", err, tt.wantKind)
			}
			if tt.wantKind == errs.FailedPrecondition && err.Error() != "card declined" {
				t.Errorf("decline message %q", err.Error())
			}
			now, _ := sim.Get(ctx, in.ID)
			if now.Status != tt.wantStatus || (now.NextAction != "") != tt.wantAction {
				t.Errorf("intent now %+v, want status %s, action %v", now, tt.wantStatus, tt.wantAction)
			}
			if err == nil && got != now {
				t.Errorf("Confirm returned %+v, Get %+v", got, now)
			}
			if diff := cmp.Diff(tt.wantEvents, log.types()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			log.mu.Lock()
			defer log.mu.Unlock()
			for _, raw := range log.raw {
				if tt.card != "" && strings.Contains(strings.ReplaceAll(string(raw), " ", ""), strings.ReplaceAll(tt.card, " ", "")) {
					t.Errorf("event carries the card number: %s", raw)
				}
			}
		})
	}
}

func TestSimulatorCompleteAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		approve   bool
		want      Status
		wantEvent string
	}{
		{"approved", true, StatusSucceeded, "payment_intent.succeeded"},
		{"failed", false, StatusRequiresPaymentMethod, "payment_intent.payment_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, log := newTestSimulator(t)
			ctx := context.Background()
			in, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 900, Currency: "gbp", IdempotencyKey: "c"})
			pending, err := sim.Confirm(ctx, in.ID, TestMethodRequires3DS, "k")
			if err != nil || pending.Status != StatusRequiresAction || !strings.Contains(pending.NextAction, in.ID) {
				t.Fatalf("Confirm = %+v, %v", pending, err)
			}
			got, err := sim.CompleteAction(in.ID, tt.approve)
			if err != nil || got.Status != tt.want || got.NextAction != "" {
				t.Fatalf("CompleteAction = %+v, %v", got, err)
			}
			if types := log.types(); types[len(types)-1] != tt.wantEvent {
				t.Errorf("last event %q, want %q", types[len(types)-1], tt.wantEvent)
			}
			if _, err := sim.CompleteAction(in.ID, true); !errs.Is(err, errs.FailedPrecondition) {
				t.Errorf("second CompleteAction err = %v, want FailedPrecondition", err)
			}
			if _, err := sim.CompleteAction("pi_missing", true); !errs.Is(err, errs.NotFound) {
				t.Errorf("CompleteAction on a missing intent: %v", err)
			}
		})
	}
}

func TestSimulatorIdempotency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, sim *Simulator)
	}{
		{"create replays the first result", func(t *testing.T, sim *Simulator) {
			a, err1 := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", OrderID: "o", IdempotencyKey: "k"})
			b, err2 := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "EUR", OrderID: "o", IdempotencyKey: "k"})
			if err1 != nil || err2 != nil || a != b {
				t.Errorf("replay: %+v %v / %+v %v", a, err1, b, err2)
			}
		}},
		{"create with other params conflicts", func(t *testing.T, sim *Simulator) {
			sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "k"})
			if _, err := sim.CreateIntent(ctx, CreateIntent{Amount: 101, Currency: "eur", IdempotencyKey: "k"}); !errs.Is(err, errs.Conflict) {
				t.Errorf("err = %v, want Conflict", err)
			}
		}},
		{"a key reused for another operation conflicts", func(t *testing.T, sim *Simulator) {
			in, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "k"})
			if _, err := sim.Cancel(ctx, in.ID, "k"); !errs.Is(err, errs.Conflict) {
				t.Errorf("err = %v, want Conflict", err)
			}
		}},
		{"a replayed decline is the same decline", func(t *testing.T, sim *Simulator) {
			in, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "c"})
			_, err1 := sim.Confirm(ctx, in.ID, TestMethodDeclines, "k")
			_, err2 := sim.Confirm(ctx, in.ID, TestMethodDeclines, "k")
			if !errs.Is(err1, errs.FailedPrecondition) || !errs.Is(err2, errs.FailedPrecondition) {
				t.Errorf("errs %v / %v", err1, err2)
			}
			if _, err := sim.Confirm(ctx, in.ID, TestMethodSucceeds, "k"); !errs.Is(err, errs.Conflict) {
				t.Errorf("same key, other card: %v, want Conflict", err)
			}
			if got, err := sim.Confirm(ctx, in.ID, TestMethodSucceeds, "k2"); err != nil || got.Status != StatusSucceeded {
				t.Errorf("retry with a new key and a good card: %+v %v", got, err)
			}
		}},
		{"confirm replay does not charge twice", func(t *testing.T, sim *Simulator) {
			in, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "c"})
			a, err1 := sim.Confirm(ctx, in.ID, TestMethodSucceeds, "k")
			b, err2 := sim.Confirm(ctx, in.ID, TestMethodSucceeds, "k")
			if err1 != nil || err2 != nil || a != b {
				t.Errorf("%+v %v / %+v %v", a, err1, b, err2)
			}
			if _, err := sim.Confirm(ctx, in.ID, TestMethodSucceeds, "k3"); !errs.Is(err, errs.FailedPrecondition) {
				t.Errorf("confirming a succeeded intent: %v", err)
			}
		}},
		{"refund replay refunds once", func(t *testing.T, sim *Simulator) {
			in, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "c"})
			sim.Confirm(ctx, in.ID, TestMethodSucceeds, "p")
			a, err1 := sim.Refund(ctx, Refund{IntentID: in.ID, Amount: 60, IdempotencyKey: "r"})
			b, err2 := sim.Refund(ctx, Refund{IntentID: in.ID, Amount: 60, IdempotencyKey: "r"})
			if err1 != nil || err2 != nil || a != b {
				t.Errorf("%+v %v / %+v %v", a, err1, b, err2)
			}
			if r, err := sim.Refund(ctx, Refund{IntentID: in.ID, IdempotencyKey: "r2"}); err != nil || r.Amount != 40 {
				t.Errorf("rest refunded: %+v %v, want 40", r, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, _ := newTestSimulator(t)
			tt.run(t, sim)
		})
	}
}

func TestSimulatorRefunds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		confirm  bool
		amounts  []int64 // refunded in turn; the last one is checked
		wantKind errs.Kind
		wantLast int64
	}{
		{"full", true, []int64{0}, errs.Internal, 1000},
		{"partial", true, []int64{300}, errs.Internal, 300},
		{"partials up to the total", true, []int64{300, 700}, errs.Internal, 700},
		{"above the captured amount", true, []int64{1001}, errs.FailedPrecondition, 0},
		{"partials above the total", true, []int64{600, 401}, errs.FailedPrecondition, 0},
		{"nothing left for a full refund", true, []int64{1000, 0}, errs.FailedPrecondition, 0},
		{"not captured", false, []int64{100}, errs.FailedPrecondition, 0},
		{"negative", true, []int64{-5}, errs.Invalid, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, log := newTestSimulator(t)
			ctx := context.Background()
			in, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 1000, Currency: "eur", IdempotencyKey: "c"})
			if tt.confirm {
				if _, err := sim.Confirm(ctx, in.ID, TestMethodSucceeds, "p"); err != nil {
					t.Fatal(err)
				}
			}
			var r RefundResult
			var err error
			for i, a := range tt.amounts {
				r, err = sim.Refund(ctx, Refund{IntentID: in.ID, Amount: a, IdempotencyKey: "r" + string(rune('a'+i))})
				if i < len(tt.amounts)-1 && err != nil {
					t.Fatalf("refund %d: %v", i, err)
				}
			}
			if tt.wantKind == errs.Internal {
				if err != nil || r.Amount != tt.wantLast || r.IntentID != in.ID || r.Currency != "eur" || r.Status != "succeeded" {
					t.Errorf("refund = %+v, %v, want amount %d", r, err, tt.wantLast)
				}
				if types := log.types(); types[len(types)-1] != "refund.created" {
					t.Errorf("last event %q", types[len(types)-1])
				}
				return
			}
			if !errs.Is(err, tt.wantKind) {
				t.Errorf("err = %v, want kind %v", err, tt.wantKind)
			}
		})
	}
}

func TestSimulatorCancelAndMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, _ := newTestSimulator(t)
	paid, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "c1"})
	sim.Confirm(ctx, paid.ID, TestMethodSucceeds, "p1")
	action, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "c2"})
	sim.Confirm(ctx, action.ID, TestMethodRequires3DS, "p2")
	tests := []struct {
		name     string
		id       string
		wantKind errs.Kind
	}{
		{"succeeded cannot be canceled", paid.ID, errs.FailedPrecondition},
		{"requires_action can be canceled", action.ID, errs.Internal},
		{"missing", "pi_nope", errs.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := sim.Cancel(ctx, tt.id, "cancel-"+tt.id)
			if tt.wantKind == errs.Internal {
				if err != nil || got.Status != StatusCanceled || got.NextAction != "" {
					t.Errorf("Cancel = %+v, %v", got, err)
				}
				return
			}
			if !errs.Is(err, tt.wantKind) {
				t.Errorf("err = %v, want %v", err, tt.wantKind)
			}
		})
	}
	if _, err := sim.Get(ctx, "pi_nope"); !errs.Is(err, errs.NotFound) {
		t.Errorf("Get missing: %v", err)
	}
}

// Emitted events look like Stripe's, so the Stripe adapter parses them too.
func TestSimulatorEventShape(t *testing.T) {
	t.Parallel()
	sim, log := newTestSimulator(t)
	in, _ := sim.CreateIntent(context.Background(), CreateIntent{Amount: 100, Currency: "eur", OrderID: "o-9", IdempotencyKey: "c"})
	log.mu.Lock()
	raw := log.raw[0]
	log.mu.Unlock()
	var w struct {
		Object string `json:"object"`
		Data   struct {
			Object struct {
				ID       string            `json:"id"`
				Object   string            `json:"object"`
				Amount   int64             `json:"amount"`
				Metadata map[string]string `json:"metadata"`
			} `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	if w.Object != "event" || w.Data.Object.ID != in.ID || w.Data.Object.Object != "payment_intent" ||
		w.Data.Object.Amount != 100 || w.Data.Object.Metadata["order_id"] != "o-9" {
		t.Errorf("event payload %s", raw)
	}
}

// CreatePaymentMethod takes the shape of Stripe's card form and refuses
// what Stripe would, with Stripe's error codes, and remembers no number.
func TestSimulatorCreatePaymentMethod(t *testing.T) {
	t.Parallel()
	sim, _ := newTestSimulator(t)
	next := time.Now().Year() + 1
	tests := []struct {
		name      string
		card      Card
		wantCode  string // "" for a payment method
		wantParam string
	}{
		{"test card with spaces", Card{Number: "4000 0027 6000 3184"}, "", ""},
		{"with expiry and cvc", Card{Number: TestCardSucceeds, ExpMonth: 12, ExpYear: next, CVC: "123"}, "", ""},
		{"not a card number", Card{Number: "4242 4242"}, "incorrect_number", "card[number]"},
		{"fails the Luhn check", Card{Number: "4242424242424241"}, "incorrect_number", "card[number]"},
		{"a real card, not a test one", Card{Number: "4111111111111111"}, "card_declined", "card[number]"},
		{"bad month", Card{Number: TestCardSucceeds, ExpMonth: 13, ExpYear: next}, "invalid_expiry_month", "card[exp_month]"},
		{"expired", Card{Number: TestCardSucceeds, ExpMonth: 1, ExpYear: 2020}, "invalid_expiry_year", "card[exp_year]"},
		{"bad cvc", Card{Number: TestCardSucceeds, CVC: "12a"}, "invalid_cvc", "card[cvc]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pm, err := sim.CreatePaymentMethod(tt.card)
			if tt.wantCode == "" {
				if err != nil || !strings.HasPrefix(pm.ID, "pm_sim_") {
					t.Fatalf("CreatePaymentMethod = %+v, %v", pm, err)
				}
				if strings.ContainsAny(strings.TrimPrefix(pm.ID, "pm_sim_"), "0123456789") {
					t.Errorf("id %q has digits; ids must never look like card numbers", pm.ID)
				}
				return
			}
			var ce *CardError
			if !errors.As(err, &ce) || ce.Code != tt.wantCode || ce.Param != tt.wantParam || ce.Message == "" {
				t.Fatalf("CreatePaymentMethod = %+v, %v; want card error %s on %s", pm, err, tt.wantCode, tt.wantParam)
			}
		})
	}
	a, errA := sim.CreatePaymentMethod(Card{Number: TestCardSucceeds})
	b, errB := sim.CreatePaymentMethod(Card{Number: TestCardSucceeds})
	if errA != nil || errB != nil || a.ID == b.ID {
		t.Errorf("two tokenizations of one card: %v, %v, %v, %v; want two ids", a, errA, b, errB)
	}
}

// The simulator keeps intents and idempotency keys in memory: it forgets
// those untouched for Retention, so a long run's memory stays flat, and
// keeps those still in use.
func TestSimulatorForgetsWhatRetentionHasPassed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	sim, err := NewSimulator(SimulatorConfig{WebhookSecret: "whsec_sim", Retention: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	ctx := context.Background()
	paid := func(key string) Intent {
		t.Helper()
		in, err := sim.CreateIntent(ctx, CreateIntent{Amount: 1500, Currency: "usd", OrderID: "o-" + key, IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if in, err = sim.Confirm(ctx, in.ID, TestMethodSucceeds, key+"-pay"); err != nil {
			t.Fatal(err)
		}
		return in
	}
	old, kept := paid("old"), paid("kept")
	now = now.Add(50 * time.Minute)
	if _, err := sim.Refund(ctx, Refund{IntentID: kept.ID, Amount: 500, IdempotencyKey: "kept-refund"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(20 * time.Minute) // old: untouched for 70 min; kept: refunded 20 min ago
	paid("new")                     // any change sweeps

	if _, err := sim.Get(ctx, old.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("an intent untouched past retention: %v, want not found", err)
	}
	if in, err := sim.Get(ctx, kept.ID); err != nil || in.Status != StatusSucceeded {
		t.Errorf("an intent changed within retention: %v, %v", in, err)
	}
	if again, err := sim.CreateIntent(ctx, CreateIntent{Amount: 1500, Currency: "usd", OrderID: "o-old", IdempotencyKey: "old"}); err != nil || again.ID == old.ID {
		t.Errorf("a key past retention replayed the old intent: %v, %v", again, err)
	}
	if r, err := sim.Refund(ctx, Refund{IntentID: kept.ID, Amount: 500, IdempotencyKey: "kept-refund"}); err != nil || r.Amount != 500 {
		t.Errorf("a key within retention did not replay: %v, %v", r, err)
	}
	sim.mu.Lock()
	defer sim.mu.Unlock()
	if len(sim.intents) != 3 || len(sim.touched) > 8 {
		t.Errorf("remembers %d intents and %d changes, want the 3 live ones and only their changes", len(sim.intents), len(sim.touched))
	}
}

// With OnEventDelay an event reaches the hook only after the delay, verified
// as any; Close drops the events not yet due.
func TestSimulatorDelayedEvents(t *testing.T) {
	t.Parallel()
	delayed := func(t *testing.T, delay time.Duration) (*Simulator, chan Event) {
		got := make(chan Event, 4)
		var sim *Simulator
		sim, err := NewSimulator(SimulatorConfig{WebhookSecret: "whsec_sim", OnEventDelay: delay, OnEvent: func(payload []byte, header string) {
			ev, err := sim.ParseWebhook(payload, header, time.Now())
			if err != nil {
				t.Errorf("emitted event does not verify: %v", err)
			}
			got <- ev
		}})
		if err != nil {
			t.Fatal(err)
		}
		return sim, got
	}
	ctx := context.Background()

	const delay = 200 * time.Millisecond
	sim, got := delayed(t, delay)
	t.Cleanup(func() { sim.Close() })
	called := time.Now()
	in, err := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "c"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		if ev.Type != "payment_intent.created" || ev.IntentID != in.ID {
			t.Errorf("event %s about %s, want payment_intent.created about %s", ev.Type, ev.IntentID, in.ID)
		}
		// Delivered inside the call, it would have come before the delay.
		if waited := time.Since(called); waited < delay {
			t.Errorf("delivered %s after the call, want at least the %s delay", waited, delay)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the delayed event never came")
	}

	late, lateGot := delayed(t, time.Hour)
	if _, err := late.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "c"}); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { late.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for an event not yet due")
	}
	if _, err := late.CreateIntent(ctx, CreateIntent{Amount: 200, Currency: "eur", IdempotencyKey: "d"}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-lateGot:
		t.Errorf("%s delivered after Close", ev.Type)
	default:
	}
}
