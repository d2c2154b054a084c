package provider

import (
	"context"
	"encoding/json"
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
		card       string
		wantKind   errs.Kind // Internal means no error
		wantStatus Status
		wantAction bool
		wantEvents []string
	}{
		{"succeeds", "4242 4242 4242 4242", errs.Internal, StatusSucceeded, false,
			[]string{"payment_intent.created", "payment_intent.succeeded"}},
		{"declines", TestCardDeclines, errs.FailedPrecondition, StatusRequiresPaymentMethod, false,
			[]string{"payment_intent.created", "payment_intent.payment_failed"}},
		{"requires 3-D Secure", TestCardRequires3DS, errs.Internal, StatusRequiresAction, true,
			[]string{"payment_intent.created", "payment_intent.requires_action"}},
		{"stripe token names work too", "pm_card_chargeDeclined", errs.FailedPrecondition, StatusRequiresPaymentMethod, false,
			[]string{"payment_intent.created", "payment_intent.payment_failed"}},
		{"unknown card is invalid", "4111111111111111", errs.Invalid, StatusRequiresPaymentMethod, false,
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
			got, err := sim.Confirm(ctx, in.ID, tt.card, "k")
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
				if strings.Contains(strings.ReplaceAll(string(raw), " ", ""), strings.ReplaceAll(tt.card, " ", "")) {
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
			pending, err := sim.Confirm(ctx, in.ID, TestCardRequires3DS, "k")
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
			_, err1 := sim.Confirm(ctx, in.ID, TestCardDeclines, "k")
			_, err2 := sim.Confirm(ctx, in.ID, TestCardDeclines, "k")
			if !errs.Is(err1, errs.FailedPrecondition) || !errs.Is(err2, errs.FailedPrecondition) {
				t.Errorf("errs %v / %v", err1, err2)
			}
			if _, err := sim.Confirm(ctx, in.ID, TestCardSucceeds, "k"); !errs.Is(err, errs.Conflict) {
				t.Errorf("same key, other card: %v, want Conflict", err)
			}
			if got, err := sim.Confirm(ctx, in.ID, TestCardSucceeds, "k2"); err != nil || got.Status != StatusSucceeded {
				t.Errorf("retry with a new key and a good card: %+v %v", got, err)
			}
		}},
		{"confirm replay does not charge twice", func(t *testing.T, sim *Simulator) {
			in, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "c"})
			a, err1 := sim.Confirm(ctx, in.ID, TestCardSucceeds, "k")
			b, err2 := sim.Confirm(ctx, in.ID, TestCardSucceeds, "k")
			if err1 != nil || err2 != nil || a != b {
				t.Errorf("%+v %v / %+v %v", a, err1, b, err2)
			}
			if _, err := sim.Confirm(ctx, in.ID, TestCardSucceeds, "k3"); !errs.Is(err, errs.FailedPrecondition) {
				t.Errorf("confirming a succeeded intent: %v", err)
			}
		}},
		{"refund replay refunds once", func(t *testing.T, sim *Simulator) {
			in, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "c"})
			sim.Confirm(ctx, in.ID, TestCardSucceeds, "p")
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
				if _, err := sim.Confirm(ctx, in.ID, TestCardSucceeds, "p"); err != nil {
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
	sim.Confirm(ctx, paid.ID, TestCardSucceeds, "p1")
	action, _ := sim.CreateIntent(ctx, CreateIntent{Amount: 100, Currency: "eur", IdempotencyKey: "c2"})
	sim.Confirm(ctx, action.ID, TestCardRequires3DS, "p2")
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
