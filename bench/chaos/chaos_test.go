package chaos

import (
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/emporiumhq/emporium/bench/shop"
	"github.com/emporiumhq/emporium/internal/platform/ratelimit"
)

// TestChaos runs every scenario in one shop, in order, checking the books
// after each. EMPORIUM_CHAOS=smoke or full; unset, it skips.
func TestChaos(t *testing.T) {
	name := os.Getenv("EMPORIUM_CHAOS")
	if name == "" {
		t.Skip("set EMPORIUM_CHAOS=smoke or full (go tool task test-chaos / chaos) to run the chaos suite")
	}
	m, ok := modes[name]
	if !ok {
		t.Fatalf("EMPORIUM_CHAOS=%q: want smoke or full", name)
	}
	started := time.Now()
	w := newWorld(t, m)
	rep := &report{mode: m, started: started.UTC()}
	scenarios := []struct {
		name string
		run  func(*testing.T, *world) *result
	}{
		{"kill-9", killScenario},
		{"postgres-restart", postgresScenario},
		{"redis-gone", redisScenario},
		{"smtp-down", smtpScenario},
		{"twilio-down", twilioScenario},
		{"carrier-down", carrierScenario},
		{"stripe-down", stripeScenario},
		{"two-edges", twoEdgesScenario},
		{"soak", soakScenario},
	}
	for _, s := range scenarios {
		ok := t.Run(s.name, func(t *testing.T) {
			w.freshTokens(t)
			r := s.run(t, w)
			if r != nil {
				r.name = s.name
				rep.results = append(rep.results, r)
				t.Logf("%s", r.row())
			}
		})
		if !ok && w.fatal {
			break
		}
	}
	rep.took = time.Since(started)
	rep.write(t)
}

// result is a scenario's figures.
type result struct {
	name          string
	faults        int
	took          time.Duration
	calls         int
	acked, paid   int
	lost          int
	doubleCharged int
	settle        time.Duration
	errCodes      map[string]int
	notes         []string
	books         *books
}

func (r *result) row() string {
	codes := make([]string, 0, len(r.errCodes))
	for c, n := range r.errCodes {
		codes = append(codes, fmt.Sprintf("%s %d", c, n))
	}
	sort.Strings(codes)
	errs := strings.Join(codes, ", ")
	if errs == "" {
		errs = "none"
	}
	return fmt.Sprintf("| %s | %d | %.0f s | %d | %d | %d | %d | %d | %s | %.0f s | %s |", r.name, r.faults, r.took.Seconds(),
		r.calls, r.acked, r.paid, r.lost, r.doubleCharged, errs, r.settle.Seconds(), strings.Join(r.notes, "; "))
}

// finish stops the load, waits for the shop to finish its work, checks
// the books and fills in the result. Broken promises fail t.
func (w *world) finish(t *testing.T, l *load, r *result, started time.Time) {
	t.Helper()
	l.Stop()
	r.took = time.Since(started)
	s := l.stats()
	r.calls, r.acked, r.paid = s.calls, s.acked, s.paid
	if r.errCodes == nil {
		r.errCodes = byCode(s.errs)
	}
	var err error
	// Unpaid orders wait for their window; deliveries retry with backoff
	// (10 s doubling).
	r.settle, err = w.settle(w.window + 4*time.Minute)
	if err != nil {
		t.Errorf("the shop did not finish its work: %v", err)
	}
	b, err := w.checkBooks(l.acknowledged())
	if err != nil {
		t.Fatalf("reading the books: %v", err)
	}
	r.books = b
	r.lost = len(b.lost) + len(b.paidLost)
	r.doubleCharged = b.doubleChargesTotal
	for _, p := range b.problems() {
		t.Errorf("books: %s", p)
	}
	if s.completed == 0 {
		t.Errorf("no checkout completed in the whole scenario")
	}
	t.Logf("books: %d orders (%d paid, %d canceled, %d pending), %d payments (%d succeeded), %d stock holds without an order, %d deliveries (%d left unconfirmed but received once, %d left unconfirmed and not received), %d emails and %d SMS received, %d UPS labels sold, %d River jobs scheduled for later",
		b.orders, b.paid, b.canceled, b.pending, b.payments, b.charged, b.orphanHolds, b.deliveries, b.unconfirmed, len(b.unconfirmedMissing), b.emailsReceived, b.smsReceived, b.labelsSold, b.scheduledLater)
	if n := b.unconfirmed - w.unconfirmed; n > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%d messages whose send outcome was lost were received once and left for staff to confirm, not resent", n))
	}
	w.unconfirmed = b.unconfirmed
	if n := len(b.unconfirmedMissing) - w.unconfirmedMissing; n > 0 {
		r.notes = append(r.notes, fmt.Sprintf("%d messages whose connection broke before the provider's answer were never received; left dead for staff, not resent", n))
		t.Logf("deliveries left dead, outcome unknown, not received: %v", b.unconfirmedMissing)
	}
	w.unconfirmedMissing = len(b.unconfirmedMissing)
}

func sleep(d time.Duration) { time.Sleep(d) }

// ---------------------------------------------------------------- kill -9

// killScenario kills the process running order, payment and shipping
// with SIGKILL at random moments under load, restarting it each time.
func killScenario(t *testing.T, w *world) *result {
	r := &result{}
	start := time.Now()
	l := w.startLoad()
	sleep(2 * time.Second)
	var restarts []time.Duration
	for i := range w.mode.kills {
		sleep(time.Duration(500+mrand.IntN(2500)) * time.Millisecond)
		w.comm.Kill9()
		r.faults++
		t0 := time.Now()
		if err := w.comm.Start(); err != nil {
			w.fatal = true
			l.Stop()
			t.Fatalf("restart %d after kill -9: %v", i+1, err)
		}
		restarts = append(restarts, time.Since(t0))
	}
	last := time.Now()
	sleep(3 * time.Second)
	if l.firstSuccessAfter(last).IsZero() {
		sleep(5 * time.Second)
	}
	if l.firstSuccessAfter(last).IsZero() {
		t.Errorf("no checkout completed within 8 s of the last restart")
	}
	w.finish(t, l, r, start)
	var longest time.Duration
	for _, d := range restarts {
		longest = max(longest, d)
	}
	r.notes = append(r.notes, fmt.Sprintf("%d kills; restart to healthy at most %.1f s", r.faults, longest.Seconds()))
	return r
}

// ---------------------------------------------------------------- PostgreSQL restart

// postgresScenario stops PostgreSQL (fast shutdown, as a restart does)
// under load, keeps it down for a while and starts it again. During the
// outage calls must fail fast with unavailable; within 5 s of it coming
// back checkouts must complete again.
func postgresScenario(t *testing.T, w *world) *result {
	r := &result{}
	start := time.Now()
	l := w.startLoad()
	sleep(3 * time.Second)
	down := time.Now()
	if err := w.pg.Stop(); err != nil {
		w.fatal = true
		l.Stop()
		t.Fatal(err)
	}
	r.faults++
	sleep(w.mode.pgOutage)
	if err := w.pg.Start(); err != nil {
		w.fatal = true
		l.Stop()
		t.Fatal(err)
	}
	up := time.Now()
	deadline := up.Add(15 * time.Second)
	for l.firstSuccessAfter(up).IsZero() && time.Now().Before(deadline) {
		sleep(100 * time.Millisecond)
	}
	recovered, checkout := l.firstAnswerAfter(up), l.firstSuccessAfter(up)
	sleep(2 * time.Second)
	s := l.stats()
	during := s.errorsBetween(down, up)
	after := s.errorsBetween(up, time.Now())
	r.errCodes = byCode(s.errs)
	w.finish(t, l, r, start)

	var slowest time.Duration
	notUnavailable := map[string]int{}
	for _, e := range during {
		slowest = max(slowest, e.took)
		if e.code != connect.CodeUnavailable {
			notUnavailable[fmt.Sprintf("%s (%s)", e.code, e.step)]++
		}
	}
	if len(during) == 0 {
		t.Errorf("no call failed during a %s outage of PostgreSQL: the fault did not reach the shop", w.mode.pgOutage)
	}
	if len(notUnavailable) > 0 {
		t.Errorf("during the outage %d calls failed, %v of them not with unavailable; e.g. %v", len(during), notUnavailable, firstErr(during, connect.CodeUnavailable))
	}
	if slowest >= callTimeout {
		t.Errorf("a call hung for %s during the outage (deadline %s)", slowest, callTimeout)
	}
	switch {
	case recovered.IsZero():
		t.Errorf("no checkout completed within 15 s of PostgreSQL coming back")
	case recovered.Sub(up) > 5*time.Second:
		t.Errorf("service was back %.1f s after PostgreSQL (the first answered call of a checkout that then completed), want within 5 s", recovered.Sub(up).Seconds())
	}
	r.notes = append(r.notes, fmt.Sprintf("down %.0f s; %d calls failed during it (%s), slowest failure %.2f s; %d failed after; first call answered %.1f s and first whole checkout done %.1f s after PostgreSQL was back",
		w.mode.pgOutage.Seconds(), len(during), codesText(byCode(during)), slowest.Seconds(), len(after), recovered.Sub(up).Seconds(), checkout.Sub(up).Seconds()))
	return r
}

func firstErr(errs []callError, except connect.Code) string {
	for _, e := range errs {
		if e.code != except {
			return e.err.Error()
		}
	}
	return ""
}

func codesText(m map[string]int) string {
	var out []string
	for c, n := range m {
		out = append(out, fmt.Sprintf("%s %d", c, n))
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// ---------------------------------------------------------------- limit probes

var probeIP atomic.Uint32

// newProbeIP is a client address no probe has used: its bucket is full.
func newProbeIP() string {
	n := probeIP.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
}

// probe sends n AuthService.Refresh calls (the auth class, which the
// shoppers never use) as client ip and counts the 429s, and the 429s
// without Retry-After.
func probe(edge, ip string, n int) (admitted, refused, noRetryAfter int) {
	client := &http.Client{Timeout: 5 * time.Second}
	for range n {
		req, _ := http.NewRequest(http.MethodPost, edge+"/emporium.auth.v1.AuthService/Refresh", strings.NewReader(`{"refreshToken":"chaos-probe"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", ip)
		res, err := client.Do(req)
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			refused++
			if res.Header.Get("Retry-After") == "" {
				noRetryAfter++
			}
		} else {
			admitted++
		}
	}
	return admitted, refused, noRetryAfter
}

// ---------------------------------------------------------------- Redis gone and back

// redisScenario stops Redis under load. The shoppers' edge fails open
// (the default): checkouts go on. The second edge fails closed: it
// refuses with 429. Both log it and count it in the metric; when Redis is
// back, limits hold again.
func redisScenario(t *testing.T, w *world) *result {
	r := &result{}
	start := time.Now()
	l := w.startLoad()
	sleep(2 * time.Second)
	if a, ref, _ := probe(w.edge.URL(), newProbeIP(), probeBurst+10); ref == 0 {
		t.Errorf("before the outage: %d probes, %d admitted, none refused: limits are not on", probeBurst+10, a)
	}
	mark := w.otlp.count()
	down := time.Now()
	w.redis.Stop()
	r.faults++
	sleep(500 * time.Millisecond)
	openA, openR, _ := probe(w.edge.URL(), newProbeIP(), probeBurst+10)
	closedA, closedR, closedNoRA := probe(w.edge2.URL(), newProbeIP(), 10)
	sleep(max(0, w.mode.redisOutage-time.Since(down)))
	if err := w.redis.Start(); err != nil {
		w.fatal = true
		l.Stop()
		t.Fatal(err)
	}
	up := time.Now()
	var resumed time.Duration = -1
	for time.Since(up) < 15*time.Second {
		if _, ref, _ := probe(w.edge.URL(), newProbeIP(), probeBurst+5); ref > 0 {
			resumed = time.Since(up)
			break
		}
		sleep(200 * time.Millisecond)
	}
	sleep(time.Second)
	s := l.stats()
	during := s.errorsBetween(down, up)
	w.finish(t, l, r, start)

	if openR > 0 {
		t.Errorf("fail-open edge, Redis down: %d of %d probes refused, want none", openR, openA+openR)
	}
	if closedA > 0 || closedNoRA > 0 {
		t.Errorf("fail-closed edge, Redis down: %d of %d probes admitted (want none), %d refusals without Retry-After", closedA, closedA+closedR, closedNoRA)
	}
	if len(during) > 0 {
		t.Errorf("fail-open: %d checkout calls failed while Redis was down (%s); e.g. %v", len(during), codesText(byCode(during)), during[0].err)
	}
	if resumed < 0 {
		t.Errorf("limits did not resume within 15 s of Redis coming back")
	}
	for _, p := range []*proc{w.edge, w.edge2} {
		if !logHas(p, "rate limiter backend failed") {
			t.Errorf("%s logged no \"rate limiter backend failed\" line", p.Name())
		}
	}
	seen := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); sleep(200 * time.Millisecond) {
		if seen = w.otlp.sawSince(mark, ratelimit.FailuresMetric); seen {
			break
		}
	}
	if !seen {
		t.Errorf("no %s metric exported since the outage began", ratelimit.FailuresMetric)
	}
	r.notes = append(r.notes, fmt.Sprintf("down %.0f s; fail-open edge admitted %d/%d probes and the shoppers' calls failed %d times; fail-closed edge refused %d/%d with Retry-After; log line and %s metric seen: %v; limits enforced again %.1f s after Redis was back",
		w.mode.redisOutage.Seconds(), openA, openA+openR, len(during), closedR, closedA+closedR, ratelimit.FailuresMetric, seen, resumed.Seconds()))
	return r
}

// ---------------------------------------------------------------- providers down

// smtpScenario takes the SMTP relay down (its port refuses connections)
// under load and brings it back: every confirmation must go out once.
func smtpScenario(t *testing.T, w *world) *result {
	r := &result{}
	start := time.Now()
	l := w.startLoad()
	sleep(2 * time.Second)
	w.relay.Down()
	r.faults++
	sleep(w.mode.smtpOutage)
	if err := w.relay.Up(); err != nil {
		w.fatal = true
		l.Stop()
		t.Fatal(err)
	}
	sleep(2 * time.Second)
	w.finish(t, l, r, start)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	failed, err := w.count(ctx, `SELECT count(*) FROM notification.delivery_attempts WHERE outcome = 'failed' AND at >= $1`, start.UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	if failed == 0 {
		t.Errorf("no delivery attempt failed while the relay was down for %s: the fault did not reach the shop", w.mode.smtpOutage)
	}
	r.notes = append(r.notes, fmt.Sprintf("relay down %.0f s; %d attempts failed and were retried; no email received twice", w.mode.smtpOutage.Seconds(), failed))
	return r
}

// shippingRun runs the load with the warehouse shipping its paid orders
// through UPS, and cut (a provider's switch) down for outage in the middle
// of it. It returns the warehouse's summary once every paid order is
// shipped (or its label purchase is in doubt) and the shop has settled.
func shippingRun(t *testing.T, w *world, r *result, cut *switchProxy, outage time.Duration) warehouseSummary {
	t.Helper()
	start := time.Now()
	l := w.startLoad()
	wh, err := w.startWarehouse(l)
	if err != nil {
		l.Stop()
		t.Fatal(err)
	}
	sleep(3 * time.Second)
	cut.Down()
	r.faults++
	sleep(outage)
	if err := cut.Up(); err != nil {
		w.fatal = true
		l.Stop()
		_ = wh.drain(0)
		t.Fatal(err)
	}
	sleep(2 * time.Second)
	l.Stop()
	// The last paid orders wait for a label; retries back off up to 8 s.
	if err := wh.drain(2 * time.Minute); err != nil {
		t.Errorf("warehouse: %v", err)
	}
	w.finish(t, l, r, start)
	s := wh.summary()
	for _, f := range s.failed {
		t.Errorf("warehouse: CreateShipment failed other than unavailable: %s", f)
	}
	if s.shipped == 0 {
		t.Errorf("the warehouse shipped nothing")
	}
	return s
}

// twilioScenario takes Twilio down (its port refuses connections, open
// ones are cut) while parcels ship and their shoppers are texted, and
// brings it back: every "shipped" SMS goes out once.
func twilioScenario(t *testing.T, w *world) *result {
	r := &result{}
	start := time.Now()
	before, missingBefore := len(w.twilio.Messages()), w.unconfirmedMissing
	s := shippingRun(t, w, r, w.twProxy, w.mode.twilioOutage)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	failed, err := w.count(ctx, `SELECT count(*) FROM notification.delivery_attempts a JOIN notification.deliveries d ON d.id = a.delivery_id
		WHERE d.channel = 2 AND a.outcome = 'failed' AND a.at >= $1`, start.UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	if failed == 0 {
		t.Errorf("no SMS attempt failed while Twilio was down for %s: the fault did not reach the shop", w.mode.twilioOutage)
	}
	// A text whose send broke before Twilio had it, with the outcome
	// unknown to the shop, is left dead (the books list it), not resent.
	texted, lost := len(w.twilio.Messages())-before, len(r.books.unconfirmedMissing)-missingBefore
	if texted+lost < s.shipped {
		t.Errorf("%d parcels shipped but Twilio took %d SMS (%d more left dead with an unknown outcome)", s.shipped, texted, lost)
	}
	r.notes = append(r.notes, fmt.Sprintf("Twilio down %.0f s; %d parcels shipped, %d SMS attempts failed and were retried; Twilio took %d SMS, none twice",
		w.mode.twilioOutage.Seconds(), s.shipped, failed, texted))
	return r
}

// carrierScenario takes UPS down while the warehouse buys labels, and
// brings it back: every paid order gets one label, none is bought twice.
func carrierScenario(t *testing.T, w *world) *result {
	r := &result{}
	before := len(w.ups.Labels())
	s := shippingRun(t, w, r, w.upProxy, w.mode.carrierOutage)
	if s.retried == 0 {
		t.Errorf("no CreateShipment answered unavailable while UPS was down for %s: the fault did not reach the shop", w.mode.carrierOutage)
	}
	// A purchase in doubt may have sold a label the shop has no record of:
	// at most one per such order, for staff to find and void at UPS.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recorded, err := w.queryStrings(ctx, `SELECT tracking_number FROM shipping.shipments WHERE carrier = 'ups' AND tracking_number <> ''`)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, tn := range recorded {
		known[tn] = true
	}
	unknown := 0
	for _, l := range w.ups.Labels() {
		if !l.Voided && !known[l.TrackingNumber] {
			unknown++
		}
	}
	if unknown > len(s.inDoubt) {
		t.Errorf("UPS sold %d live labels the shop has no record of, but only %d purchases were reported in doubt", unknown, len(s.inDoubt))
	}
	if len(s.inDoubt) > 0 {
		t.Logf("label purchases in doubt (left for staff): %v", s.inDoubt)
		r.notes = append(r.notes, fmt.Sprintf("%d label purchases in doubt (answer lost), reported to staff and not retried; %d of them sold a label", len(s.inDoubt), unknown))
	}
	r.notes = append(r.notes, fmt.Sprintf("UPS down %.0f s; %d CreateShipment calls, %d answered unavailable and were retried with backoff; %d parcels shipped, %d labels sold, none twice",
		w.mode.carrierOutage.Seconds(), s.calls, s.retried, s.shipped, len(w.ups.Labels())-before))
	return r
}

// stripeScenario takes Stripe down under load and brings it back. During
// the outage PayOrder must fail fast with unavailable, nothing may be
// charged twice (the books, at Stripe too), the orders left unpaid are
// canceled after their window with their stock released (the books), and
// checkouts complete again once Stripe is back.
func stripeScenario(t *testing.T, w *world) *result {
	r := &result{}
	start := time.Now()
	l := w.startLoad()
	sleep(2 * time.Second)
	down := time.Now()
	w.stProxy.Down()
	r.faults++
	sleep(w.mode.stripeOutage)
	if err := w.stProxy.Up(); err != nil {
		w.fatal = true
		l.Stop()
		t.Fatal(err)
	}
	up := time.Now()
	deadline := up.Add(15 * time.Second)
	for l.firstSuccessAfter(up).IsZero() && time.Now().Before(deadline) {
		sleep(100 * time.Millisecond)
	}
	recovered := l.firstSuccessAfter(up)
	sleep(2 * time.Second)
	s := l.stats()
	during := s.errorsBetween(down, up)
	r.errCodes = byCode(s.errs)
	w.finish(t, l, r, start)

	var slowest time.Duration
	other := map[string]int{}
	steps := map[shop.Step]int{}
	for _, e := range during {
		slowest = max(slowest, e.took)
		steps[e.step]++
		if e.code != connect.CodeUnavailable {
			other[fmt.Sprintf("%s (%s)", e.code, e.step)]++
		}
	}
	if len(during) == 0 {
		t.Errorf("no call failed during a %s outage of Stripe: the fault did not reach the shop", w.mode.stripeOutage)
	}
	if len(other) > 0 {
		t.Errorf("during the outage %d calls failed, %v of them not with unavailable; e.g. %v", len(during), other, firstErr(during, connect.CodeUnavailable))
	}
	if slowest >= callTimeout {
		t.Errorf("a call hung for %s during the outage (deadline %s)", slowest, callTimeout)
	}
	if recovered.IsZero() {
		t.Errorf("no checkout completed within 15 s of Stripe coming back")
	}
	r.notes = append(r.notes, fmt.Sprintf("Stripe down %.0f s; %d calls failed during it (%s: Checkout %d, PayOrder %d), slowest failure %.2f s; first checkout %.1f s after Stripe was back; %d charges at Stripe in all, none twice",
		w.mode.stripeOutage.Seconds(), len(during), codesText(byCode(during)), steps[shop.StepCheckout], steps[shop.StepPayOrder],
		slowest.Seconds(), recovered.Sub(up).Seconds(), r.books.stripeCharged))
	return r
}

// ---------------------------------------------------------------- two edges

// twoEdgesScenario sends one client's requests to both edges at once, as
// fast as they answer: together they must admit at most burst + rate·t.
func twoEdgesScenario(t *testing.T, w *world) *result {
	r := &result{}
	start := time.Now()
	l := w.startLoad()
	sleep(time.Second)
	ip := newProbeIP()
	var admitted [2]atomic.Int64
	var refused atomic.Int64
	first := time.Now()
	end := first.Add(w.mode.limitWindow)
	var wg sync.WaitGroup
	var lastMu sync.Mutex
	var last time.Time
	for i, e := range []*proc{w.edge, w.edge2} {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					a, ref, _ := probe(e.URL(), ip, 1)
					admitted[i].Add(int64(a))
					refused.Add(int64(ref))
				}
				lastMu.Lock()
				if now := time.Now(); now.After(last) {
					last = now
				}
				lastMu.Unlock()
			}()
		}
	}
	wg.Wait()
	r.faults = 0
	elapsed := last.Sub(first)
	total := admitted[0].Load() + admitted[1].Load()
	bound := float64(probeBurst) + probeRate*elapsed.Seconds()
	w.finish(t, l, r, start)
	if float64(total) > bound+1 {
		t.Errorf("two edges admitted %d requests of one client in %.2f s, above burst + rate·t = %.0f", total, elapsed.Seconds(), bound)
	}
	if admitted[0].Load() == 0 || admitted[1].Load() == 0 {
		t.Errorf("admitted per edge %d and %d: both should have served some", admitted[0].Load(), admitted[1].Load())
	}
	if refused.Load() == 0 {
		t.Errorf("no request refused: the probe did not reach the limit")
	}
	r.notes = append(r.notes, fmt.Sprintf("one client, %.1f s, both edges: admitted %d (%d + %d) of %d, bound burst %d + rate %d/s · t = %.0f",
		elapsed.Seconds(), total, admitted[0].Load(), admitted[1].Load(), total+refused.Load(), probeBurst, probeRate, bound))
	return r
}
