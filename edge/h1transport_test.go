package edge

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/logx"
)

// countingUpstream is a real HTTP/1.1 server on loopback that counts the
// connections it accepted.
func countingUpstream(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func edgeTo(t *testing.T, upstream string, timeout time.Duration) http.Handler {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(t.Context(), Config{
		Routes: []Route{{Prefix: "/svc/", Targets: []*url.URL{target}, Timeout: timeout}},
		Log:    logx.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func callEdge(h http.Handler, body string) *recorder {
	req := httptest.NewRequest(http.MethodPost, "/svc/M", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestUnaryCallsReuseOneUpstreamConnection(t *testing.T) {
	t.Parallel()
	srv, conns := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("echo "), b...))
	})
	h := edgeTo(t, srv.URL, 0)
	for i := range 20 {
		rec := callEdge(h, `{"n":1}`)
		if rec.status != http.StatusOK || rec.body.String() != `echo {"n":1}` {
			t.Fatalf("call %d: %d %q", i, rec.status, rec.body.String())
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("20 calls one after another opened %d upstream connections, want 1 kept alive", n)
	}
}

// An upstream that restarts or times out closes its idle connections; the
// next call must not fail on one of them.
func TestACallAfterTheUpstreamClosedIdleConnectionsSucceeds(t *testing.T) {
	t.Parallel()
	srv, conns := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	h := edgeTo(t, srv.URL, 0)
	if rec := callEdge(h, "{}"); rec.status != http.StatusOK {
		t.Fatalf("first call: %d %s", rec.status, rec.body.String())
	}
	srv.CloseClientConnections()
	// The upstream's FIN reaches the edge's idle socket at once on
	// loopback; wait for it all the same, as a real idle period would.
	time.Sleep(20 * time.Millisecond)
	if rec := callEdge(h, "{}"); rec.status != http.StatusOK || rec.body.String() != "ok" {
		t.Fatalf("call after the upstream closed its connections: %d %s, want 200 on a new connection", rec.status, rec.body.String())
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("upstream accepted %d connections, want 2 (the closed one, then a new one)", n)
	}
}

func TestAnUpstreamPastTheRouteDeadlineGets504AndItsConnectionIsNotReused(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv, conns := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Slow") {
			<-release
		}
		_, _ = io.WriteString(w, "ok")
	})
	t.Cleanup(func() { close(release) })
	h := edgeTo(t, srv.URL, 100*time.Millisecond)
	req := httptest.NewRequest(http.MethodPost, "/svc/Slow", strings.NewReader("{}"))
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	if rec.status != http.StatusGatewayTimeout || !strings.Contains(rec.body.String(), "deadline_exceeded") {
		t.Fatalf("slow upstream: %d %s, want 504 deadline_exceeded", rec.status, rec.body.String())
	}
	if rec := callEdge(h, "{}"); rec.status != http.StatusOK || rec.body.String() != "ok" {
		t.Fatalf("call after a timed-out one: %d %s", rec.status, rec.body.String())
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("upstream accepted %d connections, want 2: the timed-out call's connection must not carry the next call", n)
	}
}

func TestAnswersAskingToCloseAndStreamedAnswersArePassedOn(t *testing.T) {
	t.Parallel()
	srv, conns := countingUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Close") {
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, "bye")
			return
		}
		// A streamed answer: chunked, flushed message by message, with a
		// trailer (as gRPC-Web over HTTP/1.1 or a server stream would be).
		w.Header().Set("Trailer", "Grpc-Status")
		for i := range 3 {
			_, _ = io.WriteString(w, strings.Repeat("x", i+1))
			w.(http.Flusher).Flush()
		}
		w.Header().Set("Grpc-Status", "0")
	})
	h := edgeTo(t, srv.URL, 0)
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/svc/Close", strings.NewReader("{}"))
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		if rec.status != http.StatusOK || rec.body.String() != "bye" {
			t.Fatalf("Connection: close answer: %d %q", rec.status, rec.body.String())
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("two answers with Connection: close used %d connections, want 2", n)
	}
	for range 2 {
		rec := callEdge(h, "{}")
		if rec.status != http.StatusOK || rec.body.String() != "xxxxxx" || rec.Header().Get("Grpc-Status") != "0" {
			t.Fatalf("streamed answer: %d %q trailer %q, want the three chunks and Grpc-Status 0",
				rec.status, rec.body.String(), rec.Header().Get("Grpc-Status"))
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("after two streamed answers the upstream accepted %d connections, want 3 (one kept alive for both)", n)
	}
}

func TestStillOpenTellsAQuietConnectionFromAClosedOne(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	server := <-accepted
	if !stillOpen(c) {
		t.Fatal("a quiet open connection: stillOpen = false")
	}
	_, _ = server.Write([]byte("unasked"))
	time.Sleep(20 * time.Millisecond)
	if stillOpen(c) {
		t.Error("a connection with unasked bytes waiting: stillOpen = true")
	}
	server.Close()
	time.Sleep(20 * time.Millisecond)
	if stillOpen(c) {
		t.Error("a connection the peer closed: stillOpen = true")
	}
}
