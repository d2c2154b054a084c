package telemetry

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// ChildSpans is a tracer provider for client libraries (the database and
// Redis drivers) whose spans only make sense inside a request or a job:
// it starts their spans only under a span already in the context, and
// otherwise makes none. Without it every background poll (River looking
// for jobs four times a second, a health check) would start a trace of its
// own and bury the ones an operator looks for.
//
// tp nil means the global provider.
func ChildSpans(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return childOnly{tp}
}

type childOnly struct{ trace.TracerProvider }

func (p childOnly) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childOnlyTracer{p.TracerProvider.Tracer(name, opts...)}
}

type childOnlyTracer struct{ trace.Tracer }

func (t childOnlyTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx) // a span that records nothing
	}
	return t.Tracer.Start(ctx, name, opts...)
}
