package chaos

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/emporiumhq/emporium/bench/shop"
)

// callTimeout is every shopper call's deadline.
const callTimeout = 10 * time.Second

// mode sizes the suite: smoke (inside `go tool task test`, about four
// minutes) or full (`go tool task chaos`).
type mode struct {
	name          string
	shoppers      int
	skus          int
	paymentWindow time.Duration
	jobTimeout    time.Duration // --job-timeout: a killed process's jobs run again after twice it
	kills         int           // kill -9 of the commerce process
	pgOutage      time.Duration // PostgreSQL down this long
	redisOutage   time.Duration
	smtpOutage    time.Duration
	twilioOutage  time.Duration
	carrierOutage time.Duration
	stripeOutage  time.Duration
	limitWindow   time.Duration // the two-edges probe
	soak          time.Duration
}

var modes = map[string]mode{
	"smoke": {name: "smoke", shoppers: 8, skus: 10, paymentWindow: 10 * time.Second, jobTimeout: 5 * time.Second, kills: 3,
		pgOutage: 3 * time.Second, redisOutage: 3 * time.Second, smtpOutage: 8 * time.Second,
		twilioOutage: 5 * time.Second, carrierOutage: 5 * time.Second, stripeOutage: 5 * time.Second,
		limitWindow: 3 * time.Second, soak: 20 * time.Second},
	"full": {name: "full", shoppers: 16, skus: 50, paymentWindow: 20 * time.Second, jobTimeout: time.Minute, kills: 20,
		pgOutage: 15 * time.Second, redisOutage: 15 * time.Second, smtpOutage: 60 * time.Second,
		twilioOutage: 60 * time.Second, carrierOutage: 60 * time.Second, stripeOutage: 60 * time.Second,
		limitWindow: 10 * time.Second, soak: 10 * time.Minute},
}

// callError is one failed call of the load.
type callError struct {
	at   time.Time // when it failed
	step shop.Step
	code connect.Code // 0: not a Connect error
	took time.Duration
	err  error
}

// load is the shoppers' closed loop, running until Stop. Failed calls are
// recorded and the shopper starts a new checkout after a short pause, as a
// client that gives up on one purchase and tries another.
type load struct {
	cancel   context.CancelFunc
	stopping atomic.Bool // no new checkouts; the ones under way finish
	wg       sync.WaitGroup

	mu        sync.Mutex
	orders    map[string]bool   // acknowledged order → payment acknowledged
	skus      map[string]string // acknowledged order → its one SKU
	calls     int
	completed []completed
	errs      []callError
}

type completed struct {
	end time.Time
	all time.Duration
	add time.Duration // its first call, AddItem (a cart write)
}

func (w *world) startLoad() *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, orders: map[string]bool{}, skus: map[string]string{}}
	for i, acc := range w.shopper {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			s := w.client.NewShopper(i, acc.Token, w.skus)
			for ctx.Err() == nil && !l.stopping.Load() {
				p, err := s.Buy(ctx)
				var se *shop.StepError
				if err != nil && !errors.As(err, &se) {
					se = &shop.StepError{Err: err, Purchase: p}
				}
				if ctx.Err() != nil && err != nil {
					// Stopped mid-checkout: still count what was acknowledged.
					l.record(p, nil, 0)
					return
				}
				l.record(p, se, 0)
				if err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(200 * time.Millisecond):
					}
				}
			}
		}()
	}
	return l
}

func (l *load) record(p shop.Purchase, se *shop.StepError, _ int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.OrderID != "" {
		l.orders[p.OrderID] = l.orders[p.OrderID] || p.Paid
		l.skus[p.OrderID] = p.SKU
	}
	switch {
	case se == nil && p.Paid:
		l.calls += 3
		l.completed = append(l.completed, completed{end: p.End, all: p.All, add: p.Add})
	case se != nil:
		l.calls += map[shop.Step]int{shop.StepAddItem: 1, shop.StepCheckout: 2, shop.StepPayOrder: 3}[se.Step]
		code := connect.Code(0)
		var ce *connect.Error
		if errors.As(se.Err, &ce) {
			code = ce.Code()
		}
		l.errs = append(l.errs, callError{at: time.Now(), step: se.Step, code: code, took: se.Took, err: se.Err})
	}
}

// Stop lets each shopper finish the checkout under way (for at most two
// call deadlines), so that no order is left unpaid by the stop itself, and
// waits for them.
func (l *load) Stop() {
	l.stopping.Store(true)
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * callTimeout):
		l.cancel()
		<-done
	}
	l.cancel()
}

// stats are what the load saw, over the whole run or a window of it.
type stats struct {
	calls, completed, acked, paid int
	errs                          []callError
}

func (l *load) stats() stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := stats{calls: l.calls, completed: len(l.completed), acked: len(l.orders), errs: slices.Clone(l.errs)}
	for _, paid := range l.orders {
		if paid {
			s.paid++
		}
	}
	return s
}

// acknowledged are the orders the shop acknowledged, with whether their
// payment was acknowledged too.
func (l *load) acknowledged() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]bool, len(l.orders))
	for k, v := range l.orders {
		out[k] = v
	}
	return out
}

// paidOrders are the orders whose payment the shop acknowledged, with
// their SKU (one of it each).
func (l *load) paidOrders() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for id, paid := range l.orders {
		if paid {
			out[id] = l.skus[id]
		}
	}
	return out
}

// firstSuccessAfter is when the first checkout that started after t
// completed (zero if none did).
func (l *load) firstSuccessAfter(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first time.Time
	for _, c := range l.completed {
		if c.end.Add(-c.all).After(t) && (first.IsZero() || c.end.Before(first)) {
			first = c.end
		}
	}
	return first
}

// firstAnswerAfter is when the first call of a checkout that started
// after t was answered, among the checkouts that then completed (zero if
// none did): the moment the shop was serving again, which a whole
// checkout's three calls would overstate by their own time.
func (l *load) firstAnswerAfter(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first time.Time
	for _, c := range l.completed {
		start := c.end.Add(-c.all)
		if at := start.Add(c.add); start.After(t) && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first
}

// p99 is the 99th percentile of whole-checkout latency of checkouts
// completed in [from, to), and how many there were.
func (l *load) p99(from, to time.Time) (time.Duration, int) {
	l.mu.Lock()
	var v []time.Duration
	for _, c := range l.completed {
		if !c.end.Before(from) && c.end.Before(to) {
			v = append(v, c.all)
		}
	}
	l.mu.Unlock()
	if len(v) == 0 {
		return 0, 0
	}
	slices.Sort(v)
	i := int(math.Ceil(0.99*float64(len(v)))) - 1
	return v[max(0, min(i, len(v)-1))], len(v)
}

// errorsBetween are the failed calls in [from, to).
func (s stats) errorsBetween(from, to time.Time) []callError {
	var out []callError
	for _, e := range s.errs {
		if !e.at.Before(from) && e.at.Before(to) {
			out = append(out, e)
		}
	}
	return out
}

// byCode counts errors by Connect code.
func byCode(errs []callError) map[string]int {
	out := map[string]int{}
	for _, e := range errs {
		name := "not a Connect error"
		if e.code != 0 {
			name = e.code.String()
		}
		out[name]++
	}
	return out
}
