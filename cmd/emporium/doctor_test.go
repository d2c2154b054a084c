package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"connectrpc.com/grpchealth"

	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/redistest"
	"github.com/emporiumhq/emporium/svc/notification/channel/channeltest"
)

// doctorRun runs emporium doctor with env as its only configuration.
func doctorRun(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"doctor", "--check-timeout=3s"}, args...), func(k string) string { return env[k] }, &out, &out)
	return out.String(), err
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func healthServer(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestDoctorFindsAHealthyDeployment: a process of product, notification,
// shipping and payment whose every system answers on loopback: PostgreSQL
// and Redis (real), Elasticsearch, Stripe and UPS (fakes speaking their
// wire formats), an SMTP server (real, go-smtp), the edge's keys and the
// upstreams' gRPC health.
func TestDoctorFindsAHealthyDeployment(t *testing.T) {
	t.Parallel()
	pg := dbtest.PostgresURL(t)
	redistest.Client(t)
	redisURL := os.Getenv("EMPORIUM_TEST_REDIS_URL")
	if redisURL == "" {
		redisURL = redistest.DefaultURL
	}
	es := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		fmt.Fprint(w, `{"name":"es-1","cluster_name":"shop","version":{"number":"8.19.7"},"tagline":"You Know, for Search"}`)
	}))
	t.Cleanup(es.Close)
	stripe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/balance" || r.Header.Get("Authorization") != "Bearer sk_test_doctor" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`)
			return
		}
		fmt.Fprint(w, `{"object":"balance","available":[{"amount":0,"currency":"usd"}],"livemode":false,"pending":[]}`)
	}))
	t.Cleanup(stripe.Close)
	ups := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(ups.Close)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`)
	}))
	t.Cleanup(jwks.Close)
	smtpd := channeltest.StartPlainSMTP(t)
	upstream := healthServer(t)

	env := map[string]string{
		"EMPORIUM_SERVICES":               "product,notification,shipping,payment",
		"EMPORIUM_DATABASE_URL":           pg,
		"EMPORIUM_REDIS_URL":              redisURL,
		"EMPORIUM_INTERNAL_TOKEN":         "a-long-random-internal-token-0123456789",
		"EMPORIUM_JWKS_URL":               jwks.URL + "/.well-known/jwks.json",
		"EMPORIUM_UPSTREAM":               "order=" + upstream + ";user=" + upstream,
		"EMPORIUM_SEARCH_URL":             es.URL,
		"EMPORIUM_SMTP_HOST":              smtpd.Host,
		"EMPORIUM_SMTP_PORT":              strconv.Itoa(smtpd.Port),
		"EMPORIUM_SMTP_TLS":               "none",
		"EMPORIUM_SHIP_FROM":              `{"name":"W","line1":"1 Dock Rd","city":"Oakland","region":"CA","postalCode":"94607","country":"US"}`,
		"EMPORIUM_CARRIERS":               "local,ups",
		"EMPORIUM_UPS_CLIENT_ID":          "id",
		"EMPORIUM_UPS_CLIENT_SECRET":      "secret",
		"EMPORIUM_UPS_ACCOUNT":            "A1B2C3",
		"EMPORIUM_UPS_BASE_URL":           ups.URL,
		"EMPORIUM_LABEL_DIR":              t.TempDir(),
		"EMPORIUM_PAYMENT_PROVIDER":       "stripe",
		"EMPORIUM_STRIPE_SECRET_KEY":      "sk_test_doctor",
		"EMPORIUM_STRIPE_PUBLISHABLE_KEY": "pk_test_doctor",
		"EMPORIUM_STRIPE_WEBHOOK_SECRET":  "whsec_doctor",
		"EMPORIUM_STRIPE_API_URL":         stripe.URL,
	}
	out, err := doctorRun(t, env)
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	for _, want := range []string{
		"ok    services       this process runs product, notification, shipping, payment",
		"ok    database       PostgreSQL ",
		"ok    redis          " + redisURL,
		"ok    search         Elasticsearch 8.19.7 at " + es.URL,
		"ok    smtp           " + net.JoinHostPort(smtpd.Host, strconv.Itoa(smtpd.Port)) + " answers",
		"ok    carrier        UPS answers at " + ups.URL,
		"ok    labels         kept in the directory",
		"warn  stripe         Stripe accepts the keys, in test mode",
		"ok    upstream       order at " + upstream + " is serving",
		"ok    upstream       user at " + upstream + " is serving",
		"ok    jwks-url       " + jwks.URL + "/.well-known/jwks.json publishes 1 key(s)",
		", 0 problems",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
}

// TestDoctorSaysWhatIsWrong: every broken setting or unreachable system is
// named, in words that say what to do, and doctor fails.
func TestDoctorSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	smtpd := channeltest.StartPlainSMTP(t)
	notES := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"version":{"number":"2.11.0","distribution":"opensearch"}}`)
	}))
	t.Cleanup(notES.Close)
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(keys, []byte("not keys"), 0o600); err != nil {
		t.Fatal(err)
	}
	closed := closedAddr(t)
	env := map[string]string{
		"EMPORIUM_SERVICES":               "product,notification,payment,edge",
		"EMPORIUM_DATABASE_URL":           "postgres://emporium:hunter2@" + closed + "/emporium?sslmode=disable",
		"EMPORIUM_REDIS_URL":              "redis://" + closed + "/0",
		"EMPORIUM_SIGNING_KEYS":           keys,
		"EMPORIUM_UPSTREAM":               "user=http://" + closed,
		"EMPORIUM_SEARCH_URL":             notES.URL,
		"EMPORIUM_SMTP_HOST":              smtpd.Host,
		"EMPORIUM_SMTP_PORT":              strconv.Itoa(smtpd.Port),
		"EMPORIUM_SMTP_TLS":               "mandatory",
		"EMPORIUM_PAYMENT_PROVIDER":       "stripe",
		"EMPORIUM_STRIPE_SECRET_KEY":      "sk_live_doctor",
		"EMPORIUM_STRIPE_PUBLISHABLE_KEY": "pk_test_doctor",
		"EMPORIUM_STRIPE_WEBHOOK_SECRET":  "whsec_doctor",
		"EMPORIUM_PUBLIC_URL":             "http://shop.example.com",
	}
	out, err := doctorRun(t, env)
	if err == nil {
		t.Fatalf("doctor passed a broken deployment:\n%s", out)
	}
	for _, want := range []string{
		"FAIL  internal-token --internal-token (EMPORIUM_INTERNAL_TOKEN) is not set",
		"FAIL  upstream       the edge routes to order, which runs neither here nor at an --upstream: add --upstream order=http://HOST:PORT",
		"FAIL  database       ",
		"FAIL  redis          ",
		"FAIL  search         " + notES.URL + " is not Elasticsearch",
		"does not offer STARTTLS, which --smtp-tls=mandatory requires",
		"FAIL  stripe         the secret key is a live key but the publishable key a test one",
		"FAIL  upstream       user at http://" + closed + " does not answer gRPC health",
		"FAIL  signing-keys   " + keys,
		"warn  public-url     http://shop.example.com is plain http",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("doctor printed the database password:\n%s", out)
	}

	out, err = doctorRun(t, map[string]string{"EMPORIUM_SERVICES": "product,payments"})
	if err == nil || !strings.Contains(out, `FAIL  services       --services: unknown service "payments"`) {
		t.Errorf("unknown service: %v\n%s", err, out)
	}
}
