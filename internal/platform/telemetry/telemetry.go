// Package telemetry sets up OpenTelemetry for a process: W3C trace context and
// baggage propagation always; an OTLP/HTTP exporter for traces and metrics
// when OTEL_EXPORTER_OTLP_ENDPOINT (or the per-signal variables) is set;
// spans printed to stdout when OTEL_TRACES_EXPORTER=console. With no
// exporter, trace ids are still made and propagated (so logs and error
// messages can name them) but nothing is recorded.
package telemetry

import (
	"context"
	"errors"
	"io"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Setup installs the global tracer and meter providers and propagator.
// shutdown flushes and stops exporters.
func Setup(ctx context.Context, service, version string, getenv func(string) string, stdout io.Writer) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	name := service
	if v := getenv("OTEL_SERVICE_NAME"); v != "" {
		name = v
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name), semconv.ServiceVersion(version))

	otlp := getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
	traceOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	switch {
	case otlp || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "":
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, err
		}
		traceOpts = append(traceOpts, sdktrace.WithBatcher(exp))
	case getenv("OTEL_TRACES_EXPORTER") == "console":
		exp, err := stdouttrace.New(stdouttrace.WithWriter(stdout))
		if err != nil {
			return nil, err
		}
		traceOpts = append(traceOpts, sdktrace.WithBatcher(exp))
	default:
		traceOpts = append(traceOpts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	}
	tp := sdktrace.NewTracerProvider(traceOpts...)
	otel.SetTracerProvider(tp)
	shutdowns := []func(context.Context) error{tp.Shutdown}

	if otlp || getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != "" {
		exp, err := otlpmetrichttp.New(ctx)
		if err != nil {
			return nil, err
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
		otel.SetMeterProvider(mp)
		shutdowns = append(shutdowns, mp.Shutdown)
	}
	return func(ctx context.Context) error {
		var errsOut []error
		for _, f := range shutdowns {
			errsOut = append(errsOut, f(ctx))
		}
		return errors.Join(errsOut...)
	}, nil
}
