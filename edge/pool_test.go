package edge

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/grpchealth"

	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
)

// replica is a real upstream process stand-in: an h2c server with the gRPC
// health service and one route that names the replica.
type replica struct {
	url     *url.URL
	health  *grpchealth.StaticChecker
	served  atomic.Int64
	release chan struct{} // when set, requests wait on it
}

func startReplica(t *testing.T, name string, hold bool) *replica {
	t.Helper()
	r := &replica{health: grpchealth.NewStaticChecker("emporium.test.v1.TestService")}
	if hold {
		r.release = make(chan struct{})
	}
	mux := http.NewServeMux()
	mux.Handle(grpchealth.NewHandler(r.health))
	serve := func(w http.ResponseWriter, req *http.Request) {
		r.served.Add(1)
		if r.release != nil {
			<-r.release
		}
		_, _ = io.WriteString(w, name)
	}
	mux.HandleFunc("/emporium.test.v1.TestService/", serve)
	mux.HandleFunc("/emporium.test.v1.OtherService/", serve)
	r.url, _ = url.Parse(servetest.Start(t, mux))
	return r
}

func get(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	return getPath(t, h, "/emporium.test.v1.TestService/M")
}

func getPath(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := newRecorder()
	h.ServeHTTP(rec, mustRequest(t, http.MethodPost, path, "{}"))
	return rec.status, rec.body.String()
}

// refusingURL is the address of an upstream that refuses connections: a
// port that was listened on and closed.
func refusingURL(t *testing.T) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHealthChecksTakeReplicasOutAndBack(t *testing.T) {
	t.Parallel()
	a, b := startReplica(t, "a", false), startReplica(t, "b", false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := New(ctx, Config{Log: logx.Discard(), Routes: []Route{{
		Prefix: "/emporium.test.v1.TestService/", Targets: []*url.URL{a.url, b.url},
		Health: &HealthCheck{Service: "emporium.test.v1.TestService", Interval: 20 * time.Millisecond, Unhealthy: 2},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	served := func() map[string]int {
		got := map[string]int{}
		for range 6 {
			status, body := get(t, h)
			if status != http.StatusOK {
				got["status "+http.StatusText(status)]++
				continue
			}
			got[body]++
		}
		return got
	}
	if got := served(); got["a"] != 3 || got["b"] != 3 {
		t.Fatalf("both healthy: served %v, want 3 each", got)
	}
	b.health.SetStatus("emporium.test.v1.TestService", grpchealth.StatusNotServing)
	waitFor(t, "b is taken out", func() bool { _, body := get(t, h); return body == "a" && served()["b"] == 0 })
	a.health.SetStatus("emporium.test.v1.TestService", grpchealth.StatusNotServing)
	waitFor(t, "a is taken out too", func() bool { status, _ := get(t, h); return status == http.StatusServiceUnavailable })
	if status, body := get(t, h); status != http.StatusServiceUnavailable || !strings.Contains(body, "no healthy upstream") {
		t.Errorf("none healthy: %d %s, want 503 saying so", status, body)
	}
	b.health.SetStatus("emporium.test.v1.TestService", grpchealth.StatusServing)
	waitFor(t, "b comes back", func() bool { _, body := get(t, h); return body == "b" })
}

// A replica that serves several services is one pool: what one service's
// request learns about it holds for the others. (With a pool per service, a
// restarted order service answered GetCart while Checkout still said "no
// healthy upstream".)
func TestServicesOfOneReplicaShareItsHealth(t *testing.T) {
	t.Parallel()
	live := startReplica(t, "live", false)
	dead := refusingURL(t)
	h, err := New(context.Background(), Config{Log: logx.Discard(), Routes: []Route{{
		Prefix: "/emporium.test.v1.TestService/", Also: []string{"/emporium.test.v1.OtherService/"}, Targets: []*url.URL{dead, live.url},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	// The first call goes to the dead replica, fails to connect and takes
	// it out: for both services.
	if status, _ := getPath(t, h, "/emporium.test.v1.TestService/M"); status != http.StatusBadGateway {
		t.Fatalf("first call: %d, want 502 from the dead replica", status)
	}
	for range 4 {
		if status, body := getPath(t, h, "/emporium.test.v1.OtherService/M"); status != http.StatusOK || body != "live" {
			t.Fatalf("the other service: %d %q; want every call on the live replica", status, body)
		}
	}
}

func TestLeastRequestsAvoidsABusyReplica(t *testing.T) {
	t.Parallel()
	slow, fast := startReplica(t, "slow", true), startReplica(t, "fast", false)
	h, err := New(context.Background(), Config{Log: logx.Discard(), Routes: []Route{{
		Prefix: "/emporium.test.v1.TestService/", Targets: []*url.URL{slow.url, fast.url}, Balance: LeastRequests,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	// Park one request on the slow replica: requests that land on the fast
	// one finish at once, so keep starting them until one is held.
	var wg sync.WaitGroup
	for slow.served.Load() == 0 {
		wg.Go(func() { get(t, h) })
		time.Sleep(20 * time.Millisecond)
	}
	counts := map[string]int{}
	for range 20 {
		_, body := get(t, h)
		counts[body]++
	}
	close(slow.release)
	wg.Wait()
	if counts["fast"] != 20 {
		t.Errorf("with a request parked on one replica, the next 20 went %v; want all to the idle one", counts)
	}
}

func TestRefusedConnectionTakesReplicaOut(t *testing.T) {
	t.Parallel()
	live := startReplica(t, "live", false)
	dead := refusingURL(t)
	h, err := New(context.Background(), Config{Log: logx.Discard(), Routes: []Route{{
		Prefix: "/emporium.test.v1.TestService/", Targets: []*url.URL{dead, live.url},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []int
	for range 6 {
		status, _ := get(t, h)
		statuses = append(statuses, status)
	}
	bad := 0
	for _, s := range statuses {
		if s != http.StatusOK {
			bad++
		}
	}
	if bad != 1 || live.served.Load() != 5 {
		t.Errorf("statuses %v, live served %d; want one 502 then every call on the live replica", statuses, live.served.Load())
	}
}

func TestPickSkipsDownReplicasAndPrefersIdleOnes(t *testing.T) {
	t.Parallel()
	u := func(s string) *url.URL { v, _ := url.Parse(s); return v }
	p := newPool([]*url.URL{u("http://a"), u("http://b"), u("http://c")}, LeastRequests)
	p.backends[0].inflight.Store(5)
	p.backends[1].healthy.Store(false)
	for range 50 {
		b, err := p.pick()
		if err != nil || b != p.backends[2] {
			t.Fatalf("pick = %v, %v; want the idle healthy replica c", b, err)
		}
	}
	rr := newPool([]*url.URL{u("http://a"), u("http://b")}, RoundRobin)
	var got []string
	for range 4 {
		b, _ := rr.pick()
		got = append(got, b.url.Host)
	}
	if strings.Join(got, ",") != "a,b,a,b" {
		t.Errorf("round robin picked %v", got)
	}
}

func TestRouteTimeoutAnswersDeadlineExceeded(t *testing.T) {
	t.Parallel()
	slow := startReplica(t, "slow", true)
	defer close(slow.release)
	h, err := New(context.Background(), Config{Log: logx.Discard(), Routes: []Route{{
		Prefix: "/emporium.test.v1.TestService/", Targets: []*url.URL{slow.url}, Timeout: 50 * time.Millisecond,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	status, body := get(t, h)
	if status != http.StatusGatewayTimeout || !strings.Contains(body, "deadline_exceeded") || time.Since(start) > 2*time.Second {
		t.Errorf("slow upstream: %d %s after %v, want 504 deadline_exceeded soon after 50 ms", status, body, time.Since(start))
	}
}

// A service's client to another's replicas keeps working when one dies:
// the refused call goes to the survivor, and the dead replica is skipped
// from then on.
func TestUpstreamClientSkipsADeadReplica(t *testing.T) {
	t.Parallel()
	var hits [2]atomic.Int64
	var urls []*url.URL
	var servers []*httptest.Server
	for i := range 2 {
		mux := http.NewServeMux()
		mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker()))
		mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			b, _ := io.ReadAll(r.Body)
			_, _ = w.Write(b)
		})
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		urls, servers = append(urls, u), append(servers, srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := UpstreamClient(ctx, urls, slog.New(slog.DiscardHandler))
	servers[1].Close() // replica 1 dies
	for i := range 6 {
		body := fmt.Sprintf("call %d", i)
		res, err := c.Post("http://product/echo", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got) != body {
			t.Errorf("call %d answered %q, want %q", i, got, body)
		}
	}
	if hits[0].Load() != 6 || hits[1].Load() != 0 {
		t.Errorf("calls per replica: %d and %d, want 6 and 0", hits[0].Load(), hits[1].Load())
	}
}
