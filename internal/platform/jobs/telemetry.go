package jobs

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/emporiumhq/emporium/internal/platform/telemetry"
)

// middleware traces and measures every job: otelriver writes the
// enqueuing span's trace context into the job's metadata on insert, makes
// a span of each run and counts runs by kind, queue and status
// (river.work_count, river.work_duration_histogram); continueTrace, outside
// it, makes that run span a child of the enqueuing one, so the outbox job a
// checkout queued is part of the checkout's trace rather than a trace of
// its own with a link (otelriver's choice, for jobs run days later; ours
// run within seconds).
func middleware(tp trace.TracerProvider) []rivertype.Middleware {
	return []rivertype.Middleware{
		&continueTrace{},
		otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			EnableTracePropagation:      true,
			EnableWorkSpanJobKindSuffix: true,
			// Jobs queued outside any trace (periodic sweeps, polls) make
			// no spans; their runs are still counted.
			TracerProvider: telemetry.ChildSpans(tp),
		}),
	}
}

type continueTrace struct{ river.MiddlewareDefaults }

func (continueTrace) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var meta map[string]any
	if len(job.Metadata) > 0 && json.Unmarshal(job.Metadata, &meta) == nil {
		carrier := propagation.MapCarrier{}
		for _, k := range (propagation.TraceContext{}).Fields() {
			if s, ok := meta[k].(string); ok {
				carrier[k] = s
			}
		}
		ctx = propagation.TraceContext{}.Extract(ctx, carrier)
	}
	return doInner(ctx)
}

// ObserveQueues reports the jobs waiting in d's River tables as gauges
// labelled with service and queue, until stop is called:
//
//   - emporium.jobs.waiting: jobs available or scheduled to run, plus those
//     waiting to be retried (state retryable), by queue and state;
//   - emporium.jobs.lag: how long the oldest job that could run now has
//     waited past its scheduled time, by queue (outbox events included, so
//     this is the outbox's delivery lag);
//   - emporium.jobs.discarded: jobs that ran out of attempts (dead letters
//     River keeps until its retention removes them).
//
// Each collection (a Prometheus scrape, an OTLP export) runs one grouped
// query over the job table's state index.
func ObserveQueues(mp metric.MeterProvider, d *bun.DB, service string) (stop func(), err error) {
	m := mp.Meter("github.com/emporiumhq/emporium/internal/platform/jobs")
	waiting, err := m.Int64ObservableGauge("emporium.jobs.waiting",
		metric.WithDescription("Jobs waiting to run, by queue and state (available, scheduled, retryable)"), metric.WithUnit("{job}"))
	if err != nil {
		return nil, err
	}
	lag, err := m.Float64ObservableGauge("emporium.jobs.lag",
		metric.WithDescription("How long the oldest runnable job has waited past its scheduled time, by queue"), metric.WithUnit("s"))
	if err != nil {
		return nil, err
	}
	discarded, err := m.Int64ObservableGauge("emporium.jobs.discarded",
		metric.WithDescription("Jobs that ran out of attempts and will not run again, by queue"), metric.WithUnit("{job}"))
	if err != nil {
		return nil, err
	}
	svc := attribute.String("service", service)
	// Queues seen so far keep their series at 0 once drained, so a graph
	// shows an empty queue as 0 rather than as a gap.
	var mu sync.Mutex
	queues := map[string]bool{river.QueueDefault: true}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		rows, err := queueStats(ctx, d)
		if err != nil {
			return nil // no River tables yet (--migrate=false), or the database is down: report nothing
		}
		now := time.Now()
		type key struct{ queue, state string }
		counts := map[key]int64{}
		oldest := map[string]time.Time{}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range rows {
			queues[r.Queue] = true
			counts[key{r.Queue, r.State}] = r.N
			if r.State == "available" && r.Oldest != nil {
				oldest[r.Queue] = *r.Oldest
			}
		}
		for queue := range queues {
			q := attribute.String("queue", queue)
			for _, state := range []string{"available", "scheduled", "retryable"} {
				o.ObserveInt64(waiting, counts[key{queue, state}], metric.WithAttributes(svc, q, attribute.String("state", state)))
			}
			o.ObserveInt64(discarded, counts[key{queue, "discarded"}], metric.WithAttributes(svc, q))
			wait := 0.0
			if t, ok := oldest[queue]; ok {
				wait = max(0, now.Sub(t).Seconds())
			}
			o.ObserveFloat64(lag, wait, metric.WithAttributes(svc, q))
		}
		return nil
	}, waiting, lag, discarded)
	if err != nil {
		return nil, err
	}
	return func() { _ = reg.Unregister() }, nil
}

type queueRow struct {
	Queue  string     `bun:"queue"`
	State  string     `bun:"state"`
	N      int64      `bun:"n"`
	Oldest *time.Time `bun:"oldest"`
}

func queueStats(ctx context.Context, d *bun.DB) ([]queueRow, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	q := `SELECT queue, state, count(*) AS n, min(scheduled_at) AS oldest FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'discarded') GROUP BY queue, state`
	var rows []queueRow
	err := d.NewRaw(q).Scan(ctx, &rows)
	return rows, err
}
