// Package telemetry sets up OpenTelemetry for a process: W3C trace context and
// baggage propagation always; an OTLP/HTTP exporter for traces and metrics
// when OTEL_EXPORTER_OTLP_ENDPOINT (or the per-signal variables) is set;
// spans printed to stdout when OTEL_TRACES_EXPORTER=console. With no
// exporter, trace ids are still made and propagated (so logs and error
// messages can name them) but nothing is recorded.
//
// Metrics are always collected and served in the Prometheus text format by
// Telemetry.Metrics (the process mounts it on its admin listener), and also
// pushed over OTLP when an OTLP endpoint is set.
package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Telemetry is a process's installed providers.
type Telemetry struct {
	metrics   http.Handler
	shutdowns []func(context.Context) error
}

// Metrics serves every metric of the process in the Prometheus text format
// (OpenMetrics when asked), plus the Go runtime's and the process's.
func (t *Telemetry) Metrics() http.Handler { return t.metrics }

// Shutdown flushes and stops the exporters.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errsOut []error
	for _, f := range t.shutdowns {
		errsOut = append(errsOut, f(ctx))
	}
	return errors.Join(errsOut...)
}

// Setup installs the global tracer and meter providers and propagator for
// the process named service (OTEL_SERVICE_NAME wins).
func Setup(ctx context.Context, service, version string, getenv func(string) string, stdout io.Writer) (*Telemetry, error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	name := service
	if v := getenv("OTEL_SERVICE_NAME"); v != "" {
		name = v
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name), semconv.ServiceVersion(version))
	t := &Telemetry{}

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
	t.shutdowns = append(t.shutdowns, tp.Shutdown)

	// A registry of the process's own, not the client library's global
	// one, so two processes in one test binary never share series.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	prom, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	t.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
	metricOpts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(prom)}
	if otlp || getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != "" {
		exp, err := otlpmetrichttp.New(ctx)
		if err != nil {
			return nil, err
		}
		metricOpts = append(metricOpts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
	}
	mp := sdkmetric.NewMeterProvider(metricOpts...)
	otel.SetMeterProvider(mp)
	t.shutdowns = append(t.shutdowns, mp.Shutdown)
	return t, nil
}
