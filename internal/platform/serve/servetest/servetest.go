// Package servetest runs handlers on real loopback servers for tests, the
// way production serves them (HTTP/1.1 and h2c, graceful shutdown).
package servetest

import (
	"context"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/serve"
)

// Start serves h on a free loopback port until the test ends and returns
// its base URL, e.g. "http://127.0.0.1:41234".
func Start(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve.Serve(ctx, ln, h, logx.Discard(), 100*time.Millisecond) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("servetest: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// Bearer is a client option that sends token as "Authorization: Bearer".
func Bearer(token string) connect.ClientOption { return authz.Bearer(token) }
