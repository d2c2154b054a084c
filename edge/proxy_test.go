package edge

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
)

func TestMain(m *testing.M) {
	otel.SetTracerProvider(sdktrace.NewTracerProvider())
	otel.SetTextMapPropagator(propagation.TraceContext{})
	m.Run()
}

// upstream is a real h2c server on loopback that records what reached it.
type upstream struct {
	url *url.URL
	mu  sync.Mutex
	got []*http.Request
}

func startUpstream(t *testing.T, name string) *upstream {
	t.Helper()
	u := &upstream{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.got = append(u.got, r.Clone(context.Background()))
		u.mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Trailer", "Grpc-Status")
		_, _ = io.WriteString(w, name+" "+r.Proto)
		w.Header().Set("Grpc-Status", "0")
	})
	u.url, _ = url.Parse(servetest.Start(t, h))
	return u
}

func (u *upstream) requests() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*http.Request(nil), u.got...)
}

func TestProxyRoundRobinsOverH2CAndPropagatesTraceContext(t *testing.T) {
	t.Parallel()
	a, b := startUpstream(t, "a"), startUpstream(t, "b")
	h, err := New(context.Background(), Config{
		Routes: []Route{{Prefix: "/emporium.product.v1.ProductService/", Targets: []*url.URL{a.url, b.url}}},
		Log:    logx.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	var bodies []string
	// gRPC needs HTTP/2 (h2c); unary Connect JSON and gRPC-Web use pooled HTTP/1.1.
	contentTypes := []string{"application/grpc", "application/json", "application/grpc-web+proto", "application/connect+proto"}
	for _, ct := range contentTypes {
		req, _ := http.NewRequest(http.MethodPost, "/emporium.product.v1.ProductService/GetProduct", strings.NewReader("{}"))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
		req.RemoteAddr = "203.0.113.9:5555"
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		if rec.status != http.StatusOK {
			t.Fatalf("status %d", rec.status)
		}
		if rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("no X-Request-Id in the response")
		}
		if got := rec.Header().Get("Grpc-Status"); got != "0" {
			t.Errorf("trailer Grpc-Status = %q, want it passed through", got)
		}
		bodies = append(bodies, rec.body.String())
	}
	if want := []string{"a HTTP/2.0", "b HTTP/1.1", "a HTTP/1.1", "b HTTP/2.0"}; strings.Join(bodies, "|") != strings.Join(want, "|") {
		t.Errorf("responses %q, want round-robin, h2c only for gRPC and Connect streaming: %q", bodies, want)
	}
	for _, r := range append(a.requests(), b.requests()...) {
		tp := r.Header.Get("Traceparent")
		parts := strings.Split(tp, "-")
		if len(parts) != 4 || parts[1] != traceID {
			t.Errorf("upstream traceparent %q, want trace %s", tp, traceID)
			continue
		}
		if parts[2] == "00f067aa0ba902b7" {
			t.Errorf("upstream's parent span is the caller's, want the edge's own span")
		}
		if r.Header.Get("X-Request-Id") == "" || r.Header.Get("X-Forwarded-For") == "" {
			t.Errorf("upstream headers lack X-Request-Id or X-Forwarded-For: %v", r.Header)
		}
	}
}

func TestProxyAnswersUnavailableWhenNoUpstreamListens(t *testing.T) {
	t.Parallel()
	dead := refusingURL(t)
	h, err := New(context.Background(), Config{Routes: []Route{{Prefix: "/svc/", Targets: []*url.URL{dead}}}, Log: logx.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	h.ServeHTTP(rec, mustRequest(t, http.MethodPost, "/svc/M", "{}"))
	if rec.status != http.StatusBadGateway || !strings.Contains(rec.body.String(), `"code":"unavailable"`) {
		t.Errorf("dead upstream: %d %s, want 502 with code unavailable", rec.status, rec.body.String())
	}
}

func TestBodyLimitAndRouteConfig(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}
	})
	h, err := New(context.Background(), Config{Routes: []Route{{Prefix: "/svc/", Handler: ok}}, MaxBodyBytes: 10, Log: logx.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	h.ServeHTTP(rec, mustRequest(t, http.MethodPost, "/svc/M", strings.Repeat("x", 11)))
	if rec.status != http.StatusRequestEntityTooLarge {
		t.Errorf("11-byte body over a 10-byte limit: status %d, want 413", rec.status)
	}
	rec = newRecorder()
	h.ServeHTTP(rec, mustRequest(t, http.MethodPost, "/other/M", "{}"))
	if rec.status != http.StatusNotFound {
		t.Errorf("unrouted path: status %d, want 404", rec.status)
	}
	if _, err := New(context.Background(), Config{Routes: []Route{{Prefix: "/svc"}}, Log: logx.Discard()}); err == nil {
		t.Errorf("route without a trailing slash or upstream: want an error")
	}
}

func mustRequest(t *testing.T, method, path, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1 // as for a streamed body: the limit must hold while reading
	return req
}

// recorder is a minimal ResponseWriter that keeps trailers, which
// httptest.ResponseRecorder only exposes through Result().
type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

func (r *recorder) WriteHeader(code int) { r.status = code }

func TestEdgeRecordsMetricsPerRoute(t *testing.T) {
	t.Parallel()
	// A real SDK meter provider with a manual reader, scoped to this edge.
	reader := sdkmetric.NewManualReader()
	otelMeters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m, err := newMetersFrom(otelMeters)
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Missing") {
			w.WriteHeader(http.StatusNotFound)
		}
	})
	h := m.instrument("/svc/", ok)
	for _, p := range []string{"/svc/A", "/svc/B", "/svc/Missing"} {
		h.ServeHTTP(newRecorder(), mustRequest(t, http.MethodPost, p, "{}"))
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, metric := range sm.Metrics {
			if hist, ok := metric.Data.(metricdata.Histogram[float64]); ok && metric.Name == "emporium.edge.request.duration" {
				for _, dp := range hist.DataPoints {
					route, _ := dp.Attributes.Value("route")
					class, _ := dp.Attributes.Value("status_class")
					counts[route.AsString()+" "+class.AsString()] += dp.Count
				}
			}
		}
	}
	if counts["/svc/ 2xx"] != 2 || counts["/svc/ 4xx"] != 1 || len(counts) != 2 {
		t.Errorf("recorded %v, want 2 answers 2xx and 1 answer 4xx on route /svc/", counts)
	}
}
