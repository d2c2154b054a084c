// Package edge is Emporium's public entry point: one port that routes each
// Connect service (by its path prefix) to the process or processes serving
// it, for gRPC, gRPC-Web, Connect and HTTP/JSON alike. It adds CORS for
// configured origins, a request-body limit, request ids and a trace span per
// request, and answers gRPC health and reflection itself so grpcurl works
// against it without knowing where services run.
package edge

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	connectcors "connectrpc.com/cors"
	"github.com/rs/cors"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/emporiumhq/emporium/internal/platform/serve"
)

// Route sends requests under a path prefix to an upstream.
type Route struct {
	// Prefix is a path prefix such as "/emporium.product.v1.ProductService/"
	// (ServicePrefix makes one) or "/media/".
	Prefix string
	// Also are more prefixes served the same way. A backend that serves
	// several services is one route with all their prefixes, so its
	// replicas are one pool: one health check each, and one view of
	// whether a replica is up whichever service a request names. (With a
	// pool per prefix, a restarted replica came back for one service while
	// another still answered "no healthy upstream".)
	Also []string
	// Handler serves the route in-process (emporium dev). When nil, Targets
	// are used.
	Handler http.Handler
	// Targets are the base URLs of the upstream replicas, used round-robin;
	// they speak HTTP/2 without TLS (h2c), like every Emporium service.
	Targets []*url.URL
	// Timeout bounds a request on this route; 0 means 30 s.
	Timeout time.Duration
	// Balance spreads requests over healthy Targets.
	Balance Balance
	// Health, when set, checks Targets actively; otherwise an upstream is
	// only taken out when connecting to it fails, and never brought back.
	Health *HealthCheck
}

// prefixes are all the route's path prefixes: Prefix, then Also.
func (r Route) prefixes() []string { return append([]string{r.Prefix}, r.Also...) }

// ServicePrefix is the path prefix of a Connect/gRPC service.
func ServicePrefix(service string) string { return "/" + service + "/" }

// Config configures the edge.
type Config struct {
	Routes []Route
	// CORSOrigins may call from browsers: exact origins such as
	// "https://shop.example.com", or "*" for any (development only).
	CORSOrigins []string
	// Services are reported by gRPC reflection and health.
	Services []string
	// MaxBodyBytes limits request bodies; 0 means serve.MaxRequestBytes.
	MaxBodyBytes int64
	// Limits, when set, rate-limits every request before it is routed.
	Limits *Limits
	// Caller, when set, is asked once per request what its bearer token
	// says. Limits count a verified user's requests per account, and a
	// revoked token (its session signed out, its password changed) gets 401
	// from the edge itself instead of being routed, so a sign-out holds at
	// once even in front of services that cannot see revocations.
	Caller func(*http.Request) Caller
	Log    *slog.Logger
}

// Caller is what a request's bearer token says, verified.
type Caller struct {
	// Subject is the user a valid token names; "" without one.
	Subject string
	// Revoked: the token is one of ours, and it was revoked.
	Revoked bool
}

type callerKey struct{}

// identify asks caller about each request once and keeps the answer in its
// context for the limits and refuseRevoked after it.
func identify(h http.Handler, caller func(*http.Request) Caller) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := caller(r); c != (Caller{}) {
			r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
		}
		h.ServeHTTP(w, r)
	})
}

// callerOf is the Caller identify found for r.
func callerOf(r *http.Request) Caller {
	c, _ := r.Context().Value(callerKey{}).(Caller)
	return c
}

// New returns the edge handler. Health checks of upstreams run until ctx
// ends.
func New(ctx context.Context, cfg Config) (http.Handler, error) {
	if cfg.Log == nil {
		return nil, errors.New("edge: Log is required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = serve.MaxRequestBytes
	}
	mux := http.NewServeMux()
	serve.Introspection(mux, cfg.Services...)
	serve.Healthz(mux)
	meters, err := newMeters()
	if err != nil {
		return nil, err
	}
	for _, r := range cfg.Routes {
		h, err := routeHandler(ctx, r, cfg.Log)
		if err != nil {
			return nil, err
		}
		for _, prefix := range r.prefixes() {
			mux.Handle(prefix, meters.instrument(prefix, h))
		}
	}
	var h http.Handler = mux
	if cfg.Caller != nil {
		h = refuseRevoked(h)
	}
	if cfg.Limits != nil {
		h = cfg.Limits.middleware(h)
	}
	if cfg.Caller != nil {
		h = identify(h, cfg.Caller)
	}
	h = limitBody(h, cfg.MaxBodyBytes)
	if len(cfg.CORSOrigins) > 0 {
		h = withCORS(h, cfg.CORSOrigins)
	}
	h = traced(h)
	h = withRequestID(h)
	return h, nil
}

func routeHandler(ctx context.Context, r Route, log *slog.Logger) (http.Handler, error) {
	for _, prefix := range r.prefixes() {
		if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") {
			return nil, fmt.Errorf("edge: route prefix %q must start and end with /", prefix)
		}
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if r.Handler != nil {
		return withTimeout(r.Handler, timeout), nil
	}
	if len(r.Targets) == 0 {
		return nil, fmt.Errorf("edge: route %s has no handler and no targets", r.Prefix)
	}
	p := newPool(r.Targets, r.Balance)
	if r.Health != nil {
		p.check(ctx, *r.Health, healthClient(), log)
	}
	return newProxy(p, timeout, log), nil
}

// withTimeout bounds the request's context; Connect and gRPC handlers see it
// as their deadline.
func withTimeout(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

type backendKey struct{}

// newProxy forwards each request to an upstream the pool picks, within
// timeout (Connect and gRPC services see it as their deadline), keeping
// trailers (gRPC) and streaming responses as they come.
func newProxy(p *pool, timeout time.Duration, log *slog.Logger) http.Handler {
	rp := &httputil.ReverseProxy{
		// FlushInterval stays 0: ReverseProxy already flushes every write of
		// a streamed response (no Content-Length: gRPC and streaming
		// Connect), and buffering unary answers saves a write and a timer.
		Transport: newUpstreamTransport(),
		// Without a pool ReverseProxy allocates 32 KiB per response to copy
		// it through.
		BufferPool: copyBuffers{},
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(pr.In.Context().Value(backendKey{}).(*backend).url)
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
				tooLarge(w, tooBig.Limit)
			case errors.Is(err, context.DeadlineExceeded):
				writeError(w, http.StatusGatewayTimeout, "deadline_exceeded", "upstream did not answer in time")
			case errors.Is(err, context.Canceled):
				// The caller went away; nobody reads an answer.
			default:
				var dial *net.OpError
				if errors.As(err, &dial) && dial.Op == "dial" {
					r.Context().Value(backendKey{}).(*backend).markDown(log, err)
				}
				log.WarnContext(r.Context(), "upstream unavailable", "path", r.URL.Path, "err", err)
				writeError(w, http.StatusBadGateway, "unavailable", "service unavailable, try again")
			}
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := p.pick()
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "no healthy upstream for this service, try again")
			return
		}
		b.inflight.Add(1)
		defer b.inflight.Add(-1)
		// One derived context and request for the deadline and the backend.
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		rp.ServeHTTP(w, r.WithContext(context.WithValue(ctx, backendKey{}, b)))
	})
}

// copyBuffers are the buffers ReverseProxy copies response bodies through,
// of the size it would allocate for each response.
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func (copyBuffers) Get() []byte { return copyBufferPool.Get().(*[32 << 10]byte)[:] }

func (copyBuffers) Put(b []byte) {
	if cap(b) == 32<<10 {
		copyBufferPool.Put((*[32 << 10]byte)(b[:32<<10]))
	}
}

// upstreamTransport speaks to Emporium services, which serve HTTP/1.1 and
// h2c on one port. gRPC and streaming Connect calls need HTTP/2 and go over
// h2c; unary Connect, HTTP/JSON and gRPC-Web calls go over a pool of
// HTTP/1.1 keep-alive connections, which spreads concurrent calls over many
// connections instead of multiplexing them all onto one.
type upstreamTransport struct {
	h1  *h1Transport
	h2c *http.Transport
}

func newUpstreamTransport() *upstreamTransport {
	dial := (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	var h2 http.Protocols
	h2.SetUnencryptedHTTP2(true)
	var h1 http.Protocols
	h1.SetHTTP1(true)
	return &upstreamTransport{
		// DisableCompression: on the hop to a service the edge would gzip
		// and gunzip for nothing; a client's own Accept-Encoding still passes
		// through, so compression stays end to end when the client asks.
		h1: &h1Transport{
			dial:        dial,
			maxIdle:     256,
			idleTimeout: 90 * time.Second,
			fallback: &http.Transport{
				Protocols:           &h1,
				DialContext:         dial,
				DisableCompression:  true,
				MaxIdleConns:        1024,
				MaxIdleConnsPerHost: 256,
				IdleConnTimeout:     90 * time.Second,
			},
		},
		h2c: &http.Transport{
			Protocols:          &h2,
			DialContext:        dial,
			DisableCompression: true,
			IdleConnTimeout:    90 * time.Second,
		},
	}
}

func (t *upstreamTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if needsHTTP2(r.Header.Get("Content-Type")) {
		return t.h2c.RoundTrip(r)
	}
	return t.h1.RoundTrip(r)
}

// needsHTTP2 reports whether a request of this content type must travel
// over HTTP/2: gRPC (not gRPC-Web) and Connect streaming.
func needsHTTP2(contentType string) bool {
	switch {
	case strings.HasPrefix(contentType, "application/grpc-web"):
		return false
	case strings.HasPrefix(contentType, "application/grpc"), strings.HasPrefix(contentType, "application/connect+"):
		return true
	}
	return false
}

// writeError answers in the Connect error shape; gRPC and gRPC-Web clients
// map the HTTP status to the same code.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%q,"message":%q}`, code, msg)
}

func refuseRevoked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if callerOf(r).Revoked {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "session ended: sign in again")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// tooLarge is the one answer to a body over the limit, however it came
// (with a Content-Length, chunked, or compressed): 413 with code
// invalid_argument, not resource_exhausted, which clients take as "retry
// later" though the same request can never succeed.
func tooLarge(w http.ResponseWriter, max int64) {
	writeError(w, http.StatusRequestEntityTooLarge, "invalid_argument",
		fmt.Sprintf("request body is over the limit of %d bytes", max))
}

// limitBody holds request bodies to max bytes as they are read, and
// gzip-encoded ones (Content-Encoding, as Connect unary and HTTP/JSON
// clients send them) to max bytes once inflated: the edge inflates them and
// passes them on plain. When a handler (Connect, which would answer 429
// resource_exhausted) or the proxy meets the limit, the caller gets
// tooLarge instead of whatever the handler says.
func limitBody(h http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			tooLarge(w, max)
			return
		}
		body := &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, max)}
		r.Body = body
		if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") && !needsHTTP2(r.Header.Get("Content-Type")) &&
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			body.ReadCloser = &inflating{raw: body.ReadCloser, max: max}
			r.Header.Del("Content-Encoding")
			r.Header.Del("Content-Length")
			r.ContentLength = -1
		}
		tw := &tooLargeWriter{ResponseWriter: w, body: body, max: max}
		h.ServeHTTP(tw, r)
		if body.over.Load() {
			tw.start()
		}
	})
}

// limitedBody notes when reading it met the limit.
type limitedBody struct {
	io.ReadCloser
	over atomic.Bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooBig *http.MaxBytesError
	if err != nil && errors.As(err, &tooBig) {
		b.over.Store(true)
	}
	return n, err
}

// inflating gunzips raw, failing with *http.MaxBytesError past max bytes.
type inflating struct {
	raw io.ReadCloser
	max int64
	zr  *gzip.Reader
	n   int64
}

func (z *inflating) Read(p []byte) (int, error) {
	if z.zr == nil {
		zr, err := gzip.NewReader(z.raw)
		if err != nil {
			return 0, fmt.Errorf("gzip request body: %w", err)
		}
		z.zr = zr
	}
	if z.n > z.max {
		return 0, &http.MaxBytesError{Limit: z.max}
	}
	if rest := z.max + 1 - z.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := z.zr.Read(p)
	z.n += int64(n)
	if z.n > z.max {
		return n, &http.MaxBytesError{Limit: z.max}
	}
	return n, err
}

func (z *inflating) Close() error { return z.raw.Close() }

// tooLargeWriter replaces a handler's answer by tooLarge when the body met
// the limit before the answer started.
type tooLargeWriter struct {
	http.ResponseWriter
	body    *limitedBody
	max     int64
	started bool
	swallow bool // the handler's answer is dropped for tooLarge's
}

func (w *tooLargeWriter) start() {
	if w.started {
		return
	}
	w.started = true
	if w.body.over.Load() {
		w.swallow = true
		h := w.ResponseWriter.Header()
		for k := range h {
			if k != "X-Request-Id" && !strings.HasPrefix(k, "Ratelimit-") && !strings.HasPrefix(k, "Access-Control-") && k != "Vary" {
				delete(h, k)
			}
		}
		tooLarge(w.ResponseWriter, w.max)
	}
}

func (w *tooLargeWriter) WriteHeader(code int) {
	w.start()
	if !w.swallow {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *tooLargeWriter) Write(b []byte) (int, error) {
	w.start()
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and trailers.
func (w *tooLargeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *tooLargeWriter) Flush() {
	w.start()
	if f, ok := w.ResponseWriter.(http.Flusher); ok && !w.swallow {
		f.Flush()
	}
}

func withCORS(h http.Handler, origins []string) http.Handler {
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: connectcors.AllowedMethods(),
		// traceparent and tracestate: apps on another origin (the mobile
		// app's web build under `npx expo start --web`) start the trace.
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization", "X-Request-Id", "Traceparent", "Tracestate"),
		ExposedHeaders: append(connectcors.ExposedHeaders(), "X-Request-Id"),
		MaxAge:         7200,
	}).Handler(h)
}

// traced starts a server span per request, continuing a W3C trace context
// the caller sent, and puts the span's own context in the request headers so
// the service (in-process or behind the proxy) continues from this hop.
func traced(h http.Handler) http.Handler {
	tracer := otel.Tracer("github.com/emporiumhq/emporium/edge")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, "edge "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(r.Header))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(attribute.Int("http.response.status_code", sw.status))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Flush and trailers.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// withRequestID keeps a sane X-Request-Id from the caller or makes one, and
// echoes it in the response.
func withRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		h.ServeHTTP(w, r)
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}
