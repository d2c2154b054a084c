package edge

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/ratelimit"
	"github.com/emporiumhq/emporium/internal/platform/redistest"
)

func limitedEdge(t *testing.T, limiter ratelimit.Limiter, classes map[string]ratelimit.Limit) http.Handler {
	t.Helper()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	h, err := New(context.Background(), Config{
		Log: logx.Discard(),
		Routes: []Route{
			{Prefix: "/emporium.product.v1.ProductService/", Handler: ok},
			{Prefix: "/emporium.auth.v1.AuthService/", Handler: ok},
		},
		Limits: &Limits{
			Limiter:  limiter,
			Classes:  classes,
			Routes:   map[string]string{"/emporium.auth.v1.AuthService/Login": "login"},
			User:     func(r *http.Request) string { return r.Header.Get("X-Test-User") },
			ClientIP: ClientIPFrom("X-Forwarded-For"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func call(h http.Handler, path, ip, user string) *recorder {
	req, _ := http.NewRequest(http.MethodPost, path, nil)
	req.RemoteAddr = "10.0.0.1:4000" // the load balancer
	req.Header.Set("X-Forwarded-For", "198.51.100.7, "+ip)
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestTwoEdgesSharingRedisShareOneBucket(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	// Two replicas, each with its own Redis connection, as in production.
	classes := map[string]ratelimit.Limit{"default": {Rate: 40, Burst: 20}}
	edges := []http.Handler{
		limitedEdge(t, ratelimit.NewGuarded(ratelimit.NewRedis(redistest.Client(t), prefix), ratelimit.FailClosed, logx.Discard()), classes),
		limitedEdge(t, ratelimit.NewGuarded(ratelimit.NewRedis(redistest.Client(t), prefix), ratelimit.FailClosed, logx.Discard()), classes),
	}
	var allowed, refused atomic.Int64
	var badHeaders atomic.Int64
	lastCall := make([]time.Time, 16) // when each caller began its last call
	start := time.Now()
	deadline := start.Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	for i := range 16 {
		h := edges[i%2]
		wg.Go(func() {
			for now := time.Now(); now.Before(deadline); now = time.Now() {
				lastCall[i] = now
				rec := call(h, "/emporium.product.v1.ProductService/ListProducts", "203.0.113.9", "")
				switch rec.status {
				case http.StatusOK:
					allowed.Add(1)
					if rec.Header().Get("RateLimit-Limit") != "20" || rec.Header().Get("RateLimit-Remaining") == "" {
						badHeaders.Add(1)
					}
				case http.StatusTooManyRequests:
					refused.Add(1)
					if ra, _ := strconv.Atoi(rec.Header().Get("Retry-After")); ra < 1 {
						badHeaders.Add(1)
					}
				default:
					badHeaders.Add(1)
				}
			}
		})
	}
	wg.Wait()
	// The bucket refilled for at least as long as calls kept coming and
	// at most until the last answer; on a loaded machine the calls in
	// flight at the deadline can take a while to answer.
	elapsed := time.Since(start).Seconds()
	calling := 0.0
	for _, at := range lastCall {
		calling = max(calling, at.Sub(start).Seconds())
	}
	most, least := 20+40*elapsed, 20+40*calling
	got := float64(allowed.Load())
	if got > most*1.05 || got < least*0.85 {
		t.Errorf("two edges allowed %v requests, want about burst + rate×time: between %.0f (calls began for %.2fs) and %.0f (the last answered at %.2fs)",
			got, least, calling, most, elapsed)
	}
	if refused.Load() == 0 || badHeaders.Load() != 0 {
		t.Errorf("refused %d, responses with wrong headers or status %d", refused.Load(), badHeaders.Load())
	}
}

func TestLoginIsThrottledPerAddressAndSignedInUsersPerAccount(t *testing.T) {
	t.Parallel()
	h := limitedEdge(t, ratelimit.NewMemory(time.Now), map[string]ratelimit.Limit{
		"login":   {Rate: 0.01, Burst: 3},
		"default": {Rate: 1000, Burst: 1000},
	})
	var statuses []int
	for range 5 {
		statuses = append(statuses, call(h, "/emporium.auth.v1.AuthService/Login", "203.0.113.50", "").status)
	}
	want := []int{200, 200, 200, 429, 429}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("login attempts from one address: %v, want %v", statuses, want)
		}
	}
	rec := call(h, "/emporium.auth.v1.AuthService/Login", "203.0.113.50", "")
	if rec.Header().Get("RateLimit-Remaining") != "0" || rec.Header().Get("Retry-After") == "" {
		t.Errorf("refused login headers: %v", rec.Header())
	}
	if got := call(h, "/emporium.auth.v1.AuthService/Login", "203.0.113.51", "").status; got != 200 {
		t.Errorf("another address is throttled too: %d", got)
	}
	if got := call(h, "/emporium.product.v1.ProductService/GetProduct", "203.0.113.50", "").status; got != 200 {
		t.Errorf("browsing is throttled by the login class: %d", got)
	}
	// Signed-in users are counted per account, wherever they come from.
	h2 := limitedEdge(t, ratelimit.NewMemory(time.Now), map[string]ratelimit.Limit{"default": {Rate: 0.01, Burst: 2}})
	var got []int
	for _, ip := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		got = append(got, call(h2, "/emporium.product.v1.ProductService/GetProduct", ip, "user-42").status)
	}
	if got[0] != 200 || got[1] != 200 || got[2] != 429 {
		t.Errorf("one account from three addresses: %v, want 200 200 429", got)
	}
}

func TestRedisDownFailsOpen(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is required in CI")
		}
		t.Skip("no redis-server to start and stop")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	// A Redis of our own, so the test can stop it.
	srv := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	var client rueidis.Client
	for range 100 {
		client, err = rueidis.NewClient(rueidis.ClientOption{
			InitAddress: []string{"127.0.0.1:" + port}, DisableCache: true, ConnWriteTimeout: 200 * time.Millisecond,
		})
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	limiter := ratelimit.NewGuarded(ratelimit.NewRedis(client, redistest.Prefix(t)), ratelimit.FailOpen, logx.Discard())
	h := limitedEdge(t, limiter, map[string]ratelimit.Limit{"default": {Rate: 0.01, Burst: 1}})
	if got := []int{call(h, "/emporium.product.v1.ProductService/GetProduct", "203.0.113.9", "").status,
		call(h, "/emporium.product.v1.ProductService/GetProduct", "203.0.113.9", "").status}; got[0] != 200 || got[1] != 429 {
		t.Fatalf("with Redis up: %v, want 200 429", got)
	}
	srv.Process.Kill()
	srv.Wait()
	for range 5 {
		if rec := call(h, "/emporium.product.v1.ProductService/GetProduct", "203.0.113.9", ""); rec.status != http.StatusOK {
			t.Fatalf("with Redis down: status %d, want 200 (fail open)", rec.status)
		}
	}
	if limiter.Failures() < 5 {
		t.Errorf("backend failures counted %d, want ≥ 5", limiter.Failures())
	}
}

// The edge verifies a request's token once: the limits count per account
// from that answer, and a revoked token is refused from it.
func TestOneVerificationPerRequestServesLimitsAndRevocation(t *testing.T) {
	t.Parallel()
	var asked atomic.Int64
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	h, err := New(context.Background(), Config{
		Log:    logx.Discard(),
		Routes: []Route{{Prefix: "/emporium.product.v1.ProductService/", Handler: ok}},
		Limits: &Limits{
			Limiter:  ratelimit.NewMemory(time.Now),
			Classes:  map[string]ratelimit.Limit{"default": {Rate: 0.001, Burst: 1}},
			ClientIP: ClientIPFrom("X-Forwarded-For"),
		},
		Caller: func(r *http.Request) Caller {
			asked.Add(1)
			return Caller{Subject: r.Header.Get("X-Test-User"), Revoked: r.Header.Get("X-Test-User") == "revoked"}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	const path = "/emporium.product.v1.ProductService/GetProduct"
	// Two accounts behind one address have a bucket each.
	for _, user := range []string{"ana", "ben"} {
		if rec := call(h, path, "203.0.113.9", user); rec.status != http.StatusOK {
			t.Errorf("%s's first request: %d, want 200 from the account's own bucket", user, rec.status)
		}
	}
	if rec := call(h, path, "203.0.113.9", "ana"); rec.status != http.StatusTooManyRequests {
		t.Errorf("ana's second request: %d, want 429 from her empty bucket", rec.status)
	}
	if rec := call(h, path, "198.51.100.1", "revoked"); rec.status != http.StatusUnauthorized ||
		!strings.Contains(rec.body.String(), "session ended") {
		t.Errorf("revoked token: %d %s, want 401 session ended", rec.status, rec.body.String())
	}
	if n := asked.Load(); n != 4 {
		t.Errorf("the token was verified %d times for 4 requests, want once each", n)
	}
}
