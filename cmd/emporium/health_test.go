package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/grpchealth"

	"github.com/emporiumhq/emporium/internal/platform/serve"
)

func TestHealthAsksTheProcessOverGRPCHealth(t *testing.T) {
	t.Parallel()
	const svc = "emporium.product.v1.ProductService"
	checker := grpchealth.NewStaticChecker(svc)
	mux := http.NewServeMux()
	mux.Handle(grpchealth.NewHandler(checker))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := serve.NewServer(mux, slog.New(slog.DiscardHandler))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	env := func(k string) string {
		if k == "EMPORIUM_LISTEN" {
			return ":" + port // as in the container: the port serve listens on, any host
		}
		return ""
	}
	health := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"health"}, args...), env, &out, io.Discard)
		return out.String(), err
	}

	if out, err := health(); err != nil || out != "serving\n" {
		t.Fatalf("health of a serving process: %q, %v", out, err)
	}
	if _, err := health("--service", svc); err != nil {
		t.Fatalf("health of a serving service: %v", err)
	}
	if _, err := health("--service", "emporium.nope.v1.NopeService"); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Errorf("health of an unknown service: %v, want not_found", err)
	}
	checker.SetStatus(svc, grpchealth.StatusNotServing)
	if _, err := health("--service", svc); err == nil || !strings.Contains(err.Error(), "not_serving") {
		t.Errorf("health of a service that stopped serving: %v, want not_serving", err)
	}
	_ = srv.Close()
	if _, err := health(); err == nil || !strings.Contains(err.Error(), "127.0.0.1:"+port) {
		t.Errorf("health with nothing listening: %v, want an error naming the address", err)
	}
}
