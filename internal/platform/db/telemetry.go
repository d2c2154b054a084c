package db

import (
	"context"
	"database/sql"

	"github.com/exaring/otelpgx"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/emporiumhq/emporium/internal/platform/telemetry"
)

const instrumentation = "github.com/emporiumhq/emporium/internal/platform/db"

// pgTracer makes a span of every PostgreSQL statement run inside a traced
// request or job, named by its operation (SELECT, INSERT…) and carrying
// the schema (the service). bun writes arguments into the statement's
// text, so the text stays out of the spans: it would carry customers'
// emails, addresses and password hashes into the tracing backend.
func pgTracer(schema string, tp trace.TracerProvider) *otelpgx.Tracer {
	opts := []otelpgx.Option{
		otelpgx.WithTracerProvider(telemetry.ChildSpans(tp)),
		otelpgx.WithDisableSQLStatementInAttributes(),
		otelpgx.WithDisableAcquireTracer(),
	}
	if schema != "" {
		opts = append(opts, otelpgx.WithTracerAttributes(semconv.DBNamespace(schema)), otelpgx.WithMeterAttributes(semconv.DBNamespace(schema)))
	}
	return otelpgx.NewTracer(opts...)
}

// sqliteSpans is the same for SQLite, through bun's query hook (the driver
// has no tracer of its own).
type sqliteSpans struct{ tracer trace.Tracer }

func newSQLiteSpans(tp trace.TracerProvider) sqliteSpans {
	return sqliteSpans{tracer: telemetry.ChildSpans(tp).Tracer(instrumentation)}
}

func (h sqliteSpans) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	op := e.Operation()
	ctx, _ = h.tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.DBSystemNameSQLite, semconv.DBOperationName(op)))
	return ctx
}

func (h sqliteSpans) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if e.Err != nil && e.Err != sql.ErrNoRows {
		span.RecordError(e.Err)
		span.SetStatus(codes.Error, e.Err.Error())
	}
	span.End()
}

// ObservePool reports d's connection pool (open, in use, idle, waits) as
// the db.client.connection.* gauges, labelled with service, until the
// returned function is called.
func ObservePool(mp metric.MeterProvider, d *bun.DB, service string) (stop func(), err error) {
	m := mp.Meter(instrumentation)
	open, err := m.Int64ObservableGauge("db.client.connection.count",
		metric.WithDescription("Connections of the service's pool, by state (used or idle)"), metric.WithUnit("{connection}"))
	if err != nil {
		return nil, err
	}
	limit, err := m.Int64ObservableGauge("db.client.connection.max",
		metric.WithDescription("Most connections the pool opens"), metric.WithUnit("{connection}"))
	if err != nil {
		return nil, err
	}
	waits, err := m.Int64ObservableCounter("db.client.connection.waits",
		metric.WithDescription("Times a query waited for a free connection"), metric.WithUnit("{wait}"))
	if err != nil {
		return nil, err
	}
	waited, err := m.Float64ObservableCounter("db.client.connection.wait_time",
		metric.WithDescription("Total time queries waited for a free connection"), metric.WithUnit("s"))
	if err != nil {
		return nil, err
	}
	svc := attribute.String("service", service)
	used := metric.WithAttributes(svc, attribute.String("state", "used"))
	idle := metric.WithAttributes(svc, attribute.String("state", "idle"))
	only := metric.WithAttributes(svc)
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := d.Stats()
		o.ObserveInt64(open, int64(s.InUse), used)
		o.ObserveInt64(open, int64(s.Idle), idle)
		o.ObserveInt64(limit, int64(s.MaxOpenConnections), only)
		o.ObserveInt64(waits, s.WaitCount, only)
		o.ObserveFloat64(waited, s.WaitDuration.Seconds(), only)
		return nil
	}, open, limit, waits, waited)
	if err != nil {
		return nil, err
	}
	return func() { _ = reg.Unregister() }, nil
}
