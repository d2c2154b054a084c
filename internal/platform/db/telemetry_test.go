package db_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
)

// Statements run inside a traced request become its children, named by
// operation, on both engines; statements outside any trace (background
// polls) make no spans; the statement's text, which bun fills with the
// values, never reaches the span.
func TestStatementSpans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		u := dbtest.URL(t, engine, "spans", fstest.MapFS{})
		d, err := db.Open(context.Background(), u, db.Options{Schema: "spans", MaxOpenConns: 2, TracerProvider: tp})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })

		const secret = "shopper@example.com"
		var got string
		if err := d.NewRaw("SELECT ?", secret).Scan(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		if n := len(rec.Ended()); n != 0 {
			t.Fatalf("a statement outside any trace made %d spans, want none", n)
		}

		ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
		if err := d.NewRaw("SELECT ?", secret).Scan(ctx, &got); err != nil {
			t.Fatal(err)
		}
		parent.End()

		var children []sdktrace.ReadOnlySpan
		for _, s := range rec.Ended() {
			if s.Parent().SpanID() == parent.SpanContext().SpanID() {
				children = append(children, s)
			}
		}
		if len(children) == 0 {
			t.Fatalf("no span under the request's; ended: %v", names(rec.Ended()))
		}
		wantSystem := map[string]string{"sqlite": "sqlite", "postgres": "postgresql"}[engine]
		var sawSelect bool
		for _, s := range children {
			if s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
				t.Errorf("span %q is in trace %s, want the request's %s", s.Name(), s.SpanContext().TraceID(), parent.SpanContext().TraceID())
			}
			sawSelect = sawSelect || strings.HasPrefix(s.Name(), "SELECT")
			attrs := map[attribute.Key]string{}
			for _, a := range s.Attributes() {
				attrs[a.Key] = a.Value.String()
				if strings.Contains(a.Value.String(), secret) {
					t.Errorf("span %q carries the statement's value in %s", s.Name(), a.Key)
				}
			}
			if attrs["db.system.name"] != wantSystem {
				t.Errorf("span %q: db.system.name = %q, want %q", s.Name(), attrs["db.system.name"], wantSystem)
			}
		}
		if !sawSelect {
			t.Errorf("no SELECT span among %v", names(children))
		}
	})
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

// The pool gauges report the pool's size and use, labelled with the
// service, and stop when told.
func TestObservePool(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		d := dbtest.Open(t, engine, "pool", fstest.MapFS{})
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		stop, err := db.ObservePool(mp, d, "catalog")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := d.Conn(context.Background()) // one connection in use
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()

		got := collect(t, reader)
		if v := got[`db.client.connection.count{service=catalog,state=used}`]; v != 1 {
			t.Errorf("used connections = %v, want 1; all: %v", v, got)
		}
		wantMax := map[string]float64{"sqlite": 1, "postgres": 5}[engine]
		if v := got[`db.client.connection.max{service=catalog}`]; v != wantMax {
			t.Errorf("max connections = %v, want %v", v, wantMax)
		}
		stop()
		if got := collect(t, reader); len(got) != 0 {
			t.Errorf("after stop: %v, want nothing", got)
		}
	})
}

// collect reads reader's gauges and sums into name{k=v,…} → value.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	key := func(name string, set attribute.Set) string {
		var kv []string
		for _, a := range set.ToSlice() {
			kv = append(kv, string(a.Key)+"="+a.Value.String())
		}
		return name + "{" + strings.Join(kv, ",") + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range data.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Sum[int64]:
				for _, p := range data.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Sum[float64]:
				for _, p := range data.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			}
		}
	}
	return out
}
