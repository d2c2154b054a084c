package edge

import (
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// meters record the edge's OpenTelemetry metrics. Routes, not paths, label
// them, so probing for random paths cannot blow up their cardinality.
type meters struct {
	duration metric.Float64Histogram
	inflight metric.Int64UpDownCounter
}

func newMeters() (*meters, error) { return newMetersFrom(otel.GetMeterProvider()) }

func newMetersFrom(provider metric.MeterProvider) (*meters, error) {
	m := provider.Meter("github.com/emporiumhq/emporium/edge")
	duration, err := m.Float64Histogram("emporium.edge.request.duration",
		metric.WithUnit("s"), metric.WithDescription("Time to answer a request, by route and status class"),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	if err != nil {
		return nil, err
	}
	inflight, err := m.Int64UpDownCounter("emporium.edge.requests.active",
		metric.WithDescription("Requests being answered, by route"))
	if err != nil {
		return nil, err
	}
	return &meters{duration: duration, inflight: inflight}, nil
}

func (m *meters) instrument(route string, h http.Handler) http.Handler {
	routeAttr := attribute.String("route", route)
	active := metric.WithAttributes(routeAttr)
	// The duration's attribute sets, made once per status class rather than
	// per request.
	var byClass [10]metric.MeasurementOption // net/http allows statuses 100 to 999
	for c := range byClass {
		byClass[c] = metric.WithAttributes(routeAttr, attribute.String("status_class", strconv.Itoa(c)+"xx"))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inflight.Add(r.Context(), 1, active)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			m.inflight.Add(r.Context(), -1, active)
			class := sw.status / 100
			if class < 0 || class >= len(byClass) {
				class = 0
			}
			m.duration.Record(r.Context(), time.Since(start).Seconds(), byClass[class])
		}()
		h.ServeHTTP(sw, r)
	})
}
