package logx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/emporiumhq/emporium/internal/platform/logx"
)

// A record made in a traced context names its trace and span, so a log
// line leads to the trace and back; one made outside any trace names none.
func TestRecordsCarryTraceAndSpanIDs(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	log, err := logx.New(&out, "info")
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "checkout")
	log.With("service", "order").InfoContext(ctx, "order placed")
	span.End()
	log.InfoContext(context.Background(), "idle")

	dec := json.NewDecoder(&out)
	var traced, plain map[string]any
	if err := dec.Decode(&traced); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&plain); err != nil {
		t.Fatal(err)
	}
	sc := span.SpanContext()
	if traced["trace_id"] != sc.TraceID().String() || traced["span_id"] != sc.SpanID().String() || traced["service"] != "order" {
		t.Errorf("traced record = %v, want trace_id %s, span_id %s and service order", traced, sc.TraceID(), sc.SpanID())
	}
	if _, ok := plain["trace_id"]; ok {
		t.Errorf("untraced record = %v, want no trace_id", plain)
	}
}
