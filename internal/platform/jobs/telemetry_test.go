package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
)

// A job inserted inside a traced request runs in that trace: its run span
// descends from the request's span, so an outbox event is part of the
// trace of the change that published it. A job inserted outside any trace
// runs with no span.
func TestJobRunContinuesEnqueuingTrace(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		d := open(t, engine)
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		ran := make(chan trace.SpanContext, 2)
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[eventArgs]) error {
			ran <- trace.SpanContextFromContext(ctx)
			return nil
		}))
		c := start(t, d, jobs.Config{Workers: workers, TracerProvider: tp})

		ctx, request := tp.Tracer("test").Start(context.Background(), "checkout")
		err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return c.InsertTx(ctx, tx, eventArgs{EventID: "traced"}, nil)
		})
		request.End()
		if err != nil {
			t.Fatal(err)
		}
		var run trace.SpanContext
		select {
		case run = <-ran:
		case <-time.After(wait):
			t.Fatal("the job did not run")
		}
		want := request.SpanContext().TraceID()
		if run.TraceID() != want {
			t.Fatalf("job ran in trace %s, want the request's %s", run.TraceID(), want)
		}
		// The run's span and its ancestors up to the request's span.
		byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
		deadline := time.Now().Add(wait)
		for {
			for _, s := range rec.Ended() {
				byID[s.SpanContext().SpanID()] = s
			}
			if _, ok := byID[run.SpanID()]; ok || time.Now().After(deadline) {
				break
			}
			time.Sleep(poll)
		}
		var chain []string
		for id := run.SpanID(); id != request.SpanContext().SpanID(); {
			s, ok := byID[id]
			if !ok {
				t.Fatalf("span %s of the job's chain %v was not recorded", id, chain)
			}
			chain = append(chain, s.Name())
			id = s.Parent().SpanID()
		}
		if len(chain) == 0 || chain[0] != "river.work/test_event" {
			t.Errorf("the job's spans up to the request: %v, want river.work/test_event first", chain)
		}

		// Outside any trace: no span.
		if _, err := c.Insert(context.Background(), eventArgs{EventID: "untraced"}, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case run = <-ran:
			if run.IsValid() {
				t.Errorf("an untraced job ran in trace %s, want none", run.TraceID())
			}
		case <-time.After(wait):
			t.Fatal("the untraced job did not run")
		}
	})
}

// The queue gauges report waiting jobs by state, the lag of the oldest
// runnable one, and dead jobs.
func TestObserveQueues(t *testing.T) {
	t.Parallel()
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		d := open(t, engine)
		c, err := jobs.New(d, jobs.Config{}) // insert-only: nothing runs them
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		before := time.Now()
		// Two runnable, one scheduled for later, one dead.
		for _, opts := range []*river.InsertOpts{{}, {}, {ScheduledAt: time.Now().Add(time.Hour)}, {}} {
			if _, err := c.Insert(ctx, eventArgs{EventID: "x"}, opts); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.ExecContext(ctx, "UPDATE river_job SET state = 'discarded', finalized_at = CURRENT_TIMESTAMP WHERE id = (SELECT max(id) FROM river_job)"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		reader := sdkmetric.NewManualReader()
		stop, err := jobs.ObserveQueues(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), d, "order")
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(ctx, &rm); err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				switch data := m.Data.(type) {
				case metricdata.Gauge[int64]:
					for _, p := range data.DataPoints {
						got[m.Name+label(p.Attributes)] = float64(p.Value)
					}
				case metricdata.Gauge[float64]:
					for _, p := range data.DataPoints {
						got[m.Name+label(p.Attributes)] = p.Value
					}
				}
			}
		}
		if v := got["emporium.jobs.waiting{queue=default,service=order,state=available}"]; v != 2 {
			t.Errorf("available jobs = %v, want 2; all: %v", v, got)
		}
		if v := got["emporium.jobs.discarded{queue=default,service=order}"]; v != 1 {
			t.Errorf("discarded jobs = %v, want 1; all: %v", v, got)
		}
		if v := got["emporium.jobs.waiting{queue=default,service=order,state=scheduled}"]; v != 1 {
			t.Errorf("scheduled jobs = %v, want 1; all: %v", v, got)
		}
		if v, ok := got["emporium.jobs.lag{queue=default,service=order}"]; !ok || v < 0.15 || v > time.Since(before).Seconds()+1 {
			t.Errorf("lag = %v s (reported: %v), want the oldest runnable job's wait, 0.2 to %.1f s", v, ok, time.Since(before).Seconds())
		}
	})
}

func label(set attribute.Set) string {
	var kv []string
	for _, a := range set.ToSlice() {
		kv = append(kv, string(a.Key)+"="+a.Value.String())
	}
	return "{" + strings.Join(kv, ",") + "}"
}
