package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// FailuresMetric is the OpenTelemetry counter of backend failures Guarded
// has answered with its policy, with the attribute policy.
const FailuresMetric = "emporium.ratelimit.backend.failures"

// FailurePolicy says what Guarded answers when the backend fails.
type FailurePolicy int

const (
	// FailOpen allows the request (the default): an outage of Redis must
	// not take the shop down with it.
	FailOpen FailurePolicy = iota
	// FailClosed refuses the request, for routes where abuse costs more
	// than unavailability.
	FailClosed
)

func (p FailurePolicy) String() string {
	if p == FailClosed {
		return "fail-closed"
	}
	return "fail-open"
}

// Timeout bounds each backend call made through Guarded: a Redis that hangs
// (network partition, overload) delays a request by at most this much before
// the policy answers. A caller's earlier deadline still wins.
const Timeout = 250 * time.Millisecond

const (
	// failClosedRetry is the RetryAfter of a refusal made without a bucket.
	failClosedRetry = time.Second
	// logEvery throttles failure logs: with Redis down every request fails.
	logEvery = 10 * time.Second
)

// Guarded wraps a Limiter with a FailurePolicy. Backend errors are counted,
// logged (at most once per 10 s, with the number suppressed) and replaced
// by a decision (counted in FailuresMetric too): with FailOpen, Allowed with Remaining -1 (unknown); with
// FailClosed, refused with Remaining -1 and RetryAfter 1 s. The only errors
// it returns wrap ErrInvalid (a bad limit is a programming error, not an
// outage). Each backend call is bounded by Timeout. Safe for concurrent use.
type Guarded struct {
	l      Limiter
	policy FailurePolicy
	log    *slog.Logger

	failures   atomic.Int64
	counter    metric.Int64Counter
	policyAttr metric.AddOption
	lastLog    atomic.Int64 // unix nanoseconds of the last failure log
	suppressed atomic.Int64 // failures not logged since then
}

var _ Limiter = (*Guarded)(nil)

// NewGuarded wraps l; log nil means slog.Default(). Failures are also
// counted in FailuresMetric on the global meter provider.
func NewGuarded(l Limiter, policy FailurePolicy, log *slog.Logger) *Guarded {
	return newGuarded(l, policy, log, otel.GetMeterProvider())
}

func newGuarded(l Limiter, policy FailurePolicy, log *slog.Logger, mp metric.MeterProvider) *Guarded {
	if log == nil {
		log = slog.Default()
	}
	counter, err := mp.Meter("github.com/emporiumhq/emporium/internal/platform/ratelimit").Int64Counter(FailuresMetric,
		metric.WithDescription("Rate limiter backend (Redis) failures answered with the failure policy, by policy"))
	if err != nil {
		// Only a malformed name fails, and this one is a constant.
		panic(err)
	}
	g := &Guarded{l: l, policy: policy, log: log, counter: counter,
		policyAttr: metric.WithAttributes(attribute.String("policy", policy.String()))}
	// The series exists at 0 from the start, so a dashboard's rate() of it
	// reads 0 rather than "no data" until the first failure.
	counter.Add(context.Background(), 0, g.policyAttr)
	return g
}

// Failures is the number of backend failures seen so far.
func (g *Guarded) Failures() int64 { return g.failures.Load() }

// Take implements Limiter.
func (g *Guarded) Take(ctx context.Context, key string, l Limit, n int) (Decision, error) {
	if err := check(l, n); err != nil {
		return Decision{}, err
	}
	tctx, cancel := context.WithTimeout(ctx, Timeout)
	d, err := g.l.Take(tctx, key, l, n)
	cancel()
	if err == nil {
		return d, nil
	}
	if errors.Is(err, ErrInvalid) {
		return Decision{}, err
	}
	// A caller that went away is not a backend failure.
	if !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
		g.failed(ctx, err)
	}
	if g.policy == FailClosed {
		return Decision{Limit: l.Burst, Remaining: -1, RetryAfter: failClosedRetry}, nil
	}
	return Decision{Allowed: true, Limit: l.Burst, Remaining: -1}, nil
}

func (g *Guarded) failed(ctx context.Context, err error) {
	total := g.failures.Add(1)
	g.counter.Add(ctx, 1, g.policyAttr)
	now := time.Now().UnixNano()
	last := g.lastLog.Load()
	if (last != 0 && now-last < int64(logEvery)) || !g.lastLog.CompareAndSwap(last, now) {
		g.suppressed.Add(1)
		return
	}
	g.log.LogAttrs(ctx, slog.LevelError, "rate limiter backend failed",
		slog.String("policy", g.policy.String()),
		slog.Int64("failures_total", total),
		slog.Int64("suppressed", g.suppressed.Swap(0)),
		slog.String("error", err.Error()),
	)
}
