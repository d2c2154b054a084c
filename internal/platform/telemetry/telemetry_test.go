package telemetry_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"

	"github.com/emporiumhq/emporium/internal/platform/telemetry"
)

// Without any OTEL_* variable, metrics are still collected and served in
// the Prometheus format, and trace ids are made but nothing is recorded;
// ChildSpans makes no span outside a trace.
func TestSetupServesMetricsWithoutAnExporter(t *testing.T) {
	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, "emporium-test", "v0", func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(ctx)

	c, err := otel.GetMeterProvider().Meter("test").Int64Counter("emporium.test.things")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(ctx, 3)
	rec := httptest.NewRecorder()
	tel.Metrics().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{`emporium_test_things_total{otel_scope_name="test",otel_scope_schema_url="",otel_scope_version=""} 3`, `service_name="emporium-test"`, "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%.2000s", want, body)
		}
	}

	ctx, span := otel.Tracer("test").Start(ctx, "request")
	defer span.End()
	if !span.SpanContext().IsValid() || span.IsRecording() {
		t.Errorf("without an exporter: span valid=%v recording=%v, want a valid id and nothing recorded",
			span.SpanContext().IsValid(), span.IsRecording())
	}
	_, child := telemetry.ChildSpans(nil).Tracer("db").Start(ctx, "SELECT")
	if child.SpanContext().TraceID() != span.SpanContext().TraceID() {
		t.Errorf("a child span inside a trace is in trace %s, want %s", child.SpanContext().TraceID(), span.SpanContext().TraceID())
	}
	_, orphan := telemetry.ChildSpans(nil).Tracer("db").Start(context.Background(), "SELECT")
	if orphan.SpanContext().IsValid() {
		t.Errorf("ChildSpans started a span outside any trace: %v", orphan.SpanContext())
	}
}
