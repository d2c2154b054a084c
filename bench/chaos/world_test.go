package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the books are read over database/sql

	"github.com/emporiumhq/emporium/bench/cluster"
	"github.com/emporiumhq/emporium/bench/shop"
	"github.com/emporiumhq/emporium/internal/platform/ratelimit"
	"github.com/emporiumhq/emporium/svc/notification/channel/channeltest"
	"github.com/emporiumhq/emporium/svc/payment/provider/stripetest"
	"github.com/emporiumhq/emporium/svc/shipping/ups/upstest"
)

// Rate limits of the edges: high for everything the shoppers do (the load
// measures faults, not limits), and a low one for the auth class (the rest
// of AuthService: Refresh, Logout…), which the shoppers never use and the
// limit probes do.
const (
	probeRate  = 20
	probeBurst = 40
)

var edgeLimits = fmt.Sprintf("default=100000:100000,auth=%d:%d,login=100000:100000,login-account=100000:100000", probeRate, probeBurst)

// world is the shop under test: its own PostgreSQL and Redis, an SMTP
// relay, a Twilio fake, a UPS fake and a Stripe fake (each behind a
// switch, to take it down), and bin/emporium as four processes:
//
//	core      product,user,notification   (emails go to the relay, SMS to Twilio)
//	commerce  order,payment,shipping      (the one kill -9 hits; payments at Stripe, labels from UPS)
//	edge      edge, fail-open             (the shoppers' way in)
//	edge2     edge, fail-closed           (shares Redis with edge)
type world struct {
	t       *testing.T
	mode    mode
	dir     string
	pg      *postgres
	redis   *redis
	smtp    *channeltest.SMTPServer
	relay   *switchProxy // in front of smtp
	twilio  *channeltest.TwilioFake
	twProxy *switchProxy // in front of twilio
	ups     *upstest.Server
	upProxy *switchProxy // in front of ups
	stripe  *stripetest.Server
	stProxy *switchProxy // in front of stripe
	otlp    *otlpSink
	db      *sql.DB // the shop's database, for the books
	core    *proc
	comm    *proc
	edge    *proc
	edge2   *proc
	client  *shop.Client
	skus    []string
	shopper []shop.Account
	window  time.Duration // --payment-window
	// staff signs in the warehouse, which buys labels.
	staffEmail, staffPassword string
	// settledAt is when the shop last had nothing left to do.
	settledAt time.Time
	// signedIn is when the shoppers' access tokens (15 min) were issued.
	signedIn time.Time
	fatal    bool // a scenario broke the shop: skip the rest
	// unconfirmed is how many deliveries the books found dead with an
	// unknown outcome (and received) after the previous scenario.
	unconfirmed int
	// unconfirmedMissing is how many deliveries it found dead with an
	// unknown outcome and not received.
	unconfirmedMissing int
	// metrics is each process's Prometheus endpoint (its admin listener),
	// by name.
	metrics map[string]string
}

// binary is bin/emporium (go tool task build), or $EMPORIUM_BIN.
var binary = cluster.Binary

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newWorld(t *testing.T, m mode) *world {
	t.Helper()
	start := time.Now()
	bin := binary(t)
	w := &world{t: t, mode: m, dir: workDir(t), window: m.paymentWindow}
	w.pg = startPostgres(t, w.dir)
	w.redis = startRedis(t)
	w.smtp = channeltest.StartPlainSMTP(t)
	w.relay = startProxy(t, w.smtp.Addr())
	w.twilio = channeltest.StartTwilio(t)
	w.twProxy = startProxy(t, strings.TrimPrefix(w.twilio.URL, "http://"))
	w.ups = upstest.Start(t, upstest.Options{})
	w.upProxy = startProxy(t, strings.TrimPrefix(w.ups.URL, "http://"))
	w.stripe = stripetest.Start(t)
	w.stProxy = startProxy(t, strings.TrimPrefix(w.stripe.URL, "http://"))
	w.otlp = startOTLPSink(t)

	admin, err := sql.Open("pgx", w.pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE DATABASE emporium"); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	dbURL := w.pg.URL("emporium")
	if w.db, err = sql.Open("pgx", dbURL); err != nil {
		t.Fatal(err)
	}
	w.db.SetMaxOpenConns(4)
	t.Cleanup(func() { w.db.Close() })

	search := filepath.Join(w.dir, "search")
	run := func(env []string, args ...string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("emporium %s: %v\n%s", args[0], err, out)
		}
	}
	run(nil, "seed", "--database-url", dbURL, "--search-path", search, "--log-level", "warn")
	adminEmail, adminPassword := "chaos-admin@example.com", "restock passphrase "+randomHex(6)
	w.staffEmail, w.staffPassword = adminEmail, adminPassword
	run([]string{"EMPORIUM_PASSWORD=" + adminPassword}, "create-admin", "--database-url", dbURL, "--email", adminEmail, "--log-level", "warn")

	itok := randomHex(24)
	corePort, commPort, edgePort, edge2Port := freePort(t), freePort(t), freePort(t), freePort(t)
	url := func(p int) string { return fmt.Sprintf("http://127.0.0.1:%d", p) }
	jwks := url(edgePort) + "/.well-known/jwks.json"
	// Each process's admin listener serves its Prometheus metrics, where
	// the soak reads go_goroutines.
	w.metrics = map[string]string{}
	adminListen := func(name string) []string {
		p := freePort(t)
		w.metrics[name] = fmt.Sprintf("http://127.0.0.1:%d/metrics", p)
		return []string{"--admin-listen", fmt.Sprintf("127.0.0.1:%d", p)}
	}
	w.core = newProc(t, bin, "core", corePort, nil, append(adminListen("core"),
		"--services=product,user,notification", "--database-url", dbURL, "--search-path", search,
		"--internal-token", itok, "--jwks-url", jwks, "--public-url", url(edgePort),
		"--smtp-host", "127.0.0.1", "--smtp-port", fmt.Sprint(w.relay.port), "--smtp-tls", "none",
		"--smtp-username", w.smtp.Username, "--smtp-password", w.smtp.Password, "--mail-from", "Chaos Shop <shop@chaos.example>",
		"--twilio-account-sid", w.twilio.AccountSID, "--twilio-auth-token", w.twilio.AuthToken, "--twilio-from", "+15005550006",
		"--twilio-base-url", url(w.twProxy.port),
		"--upstream", "order="+url(commPort), "--job-timeout", m.jobTimeout.String())...)
	shipFrom := `{"name":"Chaos Warehouse","line1":"1 Dock Rd","city":"Oakland","region":"CA","postalCode":"94607","country":"US"}`
	w.comm = newProc(t, bin, "commerce", commPort, nil, append(adminListen("commerce"),
		"--services=order,payment,shipping", "--database-url", dbURL, "--internal-token", itok, "--jwks-url", jwks,
		"--upstream", "product="+url(corePort)+";notification="+url(corePort)+";user="+url(corePort),
		"--ship-from", shipFrom, "--carriers", "local,ups", "--ups-client-id", w.ups.ClientID, "--ups-client-secret", w.ups.ClientSecret,
		"--ups-account", w.ups.Account, "--ups-base-url", url(w.upProxy.port), "--label-dir", filepath.Join(w.dir, "labels"), "--payment-window", w.window.String(), "--job-timeout", m.jobTimeout.String(),
		// Stripe (the fake, stateful) behind a switch, so that it can be
		// taken away and its books read.
		"--payment-provider", "stripe", "--stripe-secret-key", w.stripe.APIKey, "--stripe-api-url", url(w.stProxy.port),
		"--stripe-webhook-secret", "whsec_chaos"+randomHex(8), "--stripe-publishable-key", "pk_test_chaos")...)
	keys := filepath.Join(w.dir, "signing-keys.json")
	upstream := fmt.Sprintf("product=%[1]s;user=%[1]s;notification=%[1]s;order=%[2]s;payment=%[2]s;shipping=%[2]s", url(corePort), url(commPort))
	otel := []string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=" + w.otlp.url, "OTEL_METRIC_EXPORT_INTERVAL=1000"}
	edgeArgs := func(policy string) []string {
		return []string{"--services=edge", "--internal-token", itok, "--signing-keys", keys, "--redis-url", w.redis.URL(),
			"--rate-limits", edgeLimits, "--rate-limit-policy", policy, "--client-ip-header", "X-Forwarded-For", "--upstream", upstream}
	}
	w.edge = newProc(t, bin, "edge", edgePort, otel, append(adminListen("edge"), edgeArgs("fail-open")...)...)
	w.edge2 = newProc(t, bin, "edge2", edge2Port, otel, append(adminListen("edge2"), edgeArgs("fail-closed")...)...)
	// The edge makes the signing keys; the second shares the file.
	for _, p := range []*proc{w.edge, w.core, w.comm, w.edge2} {
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
	}

	w.client = shop.New(shop.Options{Edge: w.edge.URL(), Conns: m.shoppers, CallTimeout: callTimeout})
	t.Cleanup(w.client.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if w.skus, err = w.client.SetupCatalog(ctx, adminEmail, adminPassword, m.skus, 1000000); err != nil {
		t.Fatal(err)
	}
	if w.shopper, err = w.client.SetupShoppers(ctx, m.shoppers); err != nil {
		t.Fatal(err)
	}
	w.signedIn = time.Now()
	t.Logf("setup: PostgreSQL :%d, Redis :%d, SMTP relay :%d, Twilio :%d, UPS :%d, Stripe :%d, edges :%d and :%d, %d shoppers, %d SKUs (%.1f s)",
		w.pg.Port(), w.redis.Port(), w.relay.port, w.twProxy.port, w.upProxy.port, w.stProxy.port, edgePort, edge2Port, len(w.shopper), len(w.skus), time.Since(start).Seconds())
	return w
}

// freshTokens signs the shoppers in again when their access tokens (15
// min, not refreshed by the loop) might expire during the next scenario.
func (w *world) freshTokens(t *testing.T) {
	t.Helper()
	if time.Since(w.signedIn) < 4*time.Minute {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, len(w.shopper))
	sem := make(chan struct{}, shop.SetupParallel)
	for i := range w.shopper {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			tok, err := w.client.Login(ctx, w.shopper[i].Email, shop.ShopperPassword)
			if err != nil {
				errc <- fmt.Errorf("signing %s in again: %w", w.shopper[i].Email, err)
				return
			}
			w.shopper[i].Token = tok
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	w.signedIn = time.Now()
}

// ---------------------------------------------------------------- an OTLP receiver for the edges' metrics

// otlpSink receives OTLP/HTTP metric exports and keeps their bodies. The
// suite looks for a metric's name in them (names are plain strings in the
// protobuf) instead of decoding them.
type otlpSink struct {
	url    string
	mu     sync.Mutex
	bodies [][]byte
}

func startOTLPSink(t *testing.T) *otlpSink {
	s := &otlpSink{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, b)
		if len(s.bodies) > 2000 {
			s.bodies = s.bodies[1000:]
		}
		s.mu.Unlock()
		rw.Header().Set("Content-Type", "application/x-protobuf")
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/v1/metrics"
	return s
}

// sawFailures reports whether an export since `since` exports carried the
// rate limiter's failure counter.
func (s *otlpSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

func (s *otlpSink) sawSince(i int, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.bodies[min(i, len(s.bodies)):] {
		if bytes.Contains(b, []byte(name)) {
			return true
		}
	}
	return false
}

var _ = ratelimit.FailuresMetric

// logHas reports whether p's output contains s.
func logHas(p *proc, s string) bool { return strings.Contains(p.Log(), s) }
