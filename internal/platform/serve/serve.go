// Package serve runs Emporium's HTTP servers: HTTP/1.1 and cleartext HTTP/2
// (h2c) on one port, so gRPC, gRPC-Web, Connect and plain HTTP/JSON clients
// all reach the same handlers; graceful shutdown; and the options every
// Connect handler shares.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/otelconnect"
	"connectrpc.com/validate"

	"github.com/emporiumhq/emporium/internal/platform/audit"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// MaxRequestBytes is the largest request body a handler reads (4 MiB).
const MaxRequestBytes = 4 << 20

// HandlerOptions are the options every Connect handler gets, outermost
// first: tracing and metrics, error mapping, access rules, the audit log
// (staff and admin mutations, when the handler has a log attached), then
// protovalidate (so an anonymous caller learns nothing about a staff
// method's input); and a JSON codec that refuses enum names the enum does
// not define.
func HandlerOptions(log *slog.Logger, auth authz.Authenticator) ([]connect.HandlerOption, error) {
	otel, err := otelconnect.NewInterceptor(otelconnect.WithTrustRemote())
	if err != nil {
		return nil, fmt.Errorf("otel interceptor: %w", err)
	}
	return append([]connect.HandlerOption{
		connect.WithInterceptors(otel, errs.Interceptor(log), authz.Interceptor(auth), audit.Interceptor(log), validate.NewInterceptor(), nulGuard{}),
		connect.WithReadMaxBytes(MaxRequestBytes),
		connect.WithCompressMinBytes(1024),
	}, JSONCodecs()...), nil
}

// Introspection mounts gRPC health checking (every named service reported
// SERVING) and gRPC server reflection (v1 and v1alpha, for grpcurl and
// grpcui) on mux.
func Introspection(mux *http.ServeMux, services ...string) {
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(services...)))
	reflector := grpcreflect.NewStaticReflector(services...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
}

// NewServer returns an http.Server for h speaking HTTP/1.1 and h2c, with
// timeouts that keep slow or idle clients from holding connections forever.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           h,
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Serve serves h on ln until ctx ends, then stops accepting, lets requests in
// flight finish (up to grace) and returns.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, grace time.Duration) error {
	srv := NewServer(h, log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("graceful shutdown timed out; closing connections", "grace", grace)
		err = srv.Close()
	}
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}

// Healthz answers 200 "ok" to GET /healthz, for load balancers and scripts
// that don't speak gRPC health.
func Healthz(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
}

// Admin is the handler of a process's admin listener: metrics at
// /metrics and /healthz, and with profiling Go's CPU, heap, goroutine and
// other profiles under /debug/pprof/ (net/http/pprof). It answers nothing
// else, and the edge routes none of it, so it is reachable only where the
// operator publishes it.
func Admin(metrics http.Handler, profiling bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	Healthz(mux)
	if profiling {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index) // and the named profiles: heap, goroutine, allocs…
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}
