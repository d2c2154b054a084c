package edge

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"github.com/emporiumhq/emporium/internal/platform/token"
	"github.com/emporiumhq/emporium/internal/testworld"
)

const (
	testInternalSecret = "edge-test-internal-secret"
	testIssuer         = "emporium-edge-test"
	testPassword       = "correct horse battery staple"
)

// shop is a whole edge (edge.Open, as `emporium serve` builds it) in front
// of the real user service, with the given --rate-limits.
type shop struct {
	h     http.Handler
	users *testworld.World
}

func newShop(t *testing.T, limits string) *shop {
	t.Helper()
	k, err := token.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.NewKeySet(k)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := token.NewStaticVerifier(keys, testIssuer, "emporium")
	if err != nil {
		t.Fatal(err)
	}
	authn := authz.Either(verifier, authz.InternalCredential(testInternalSecret))
	users := testworld.New(t, "sqlite", testworld.Options{Services: []string{"user"}, Auth: authn, UserLinksByMail: true})
	log := testkit.Logger(t, "warn")
	opts, err := serve.HandlerOptions(log, authn)
	if err != nil {
		t.Fatal(err)
	}
	var s Settings
	fs := flag.NewFlagSet("edge", flag.ContinueOnError)
	s.Register(fs, []string{"user"})
	if err := fs.Parse([]string{"--rate-limits", limits, "--client-ip-header", "X-Forwarded-For"}); err != nil {
		t.Fatal(err)
	}
	userURL, err := url.Parse(users.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The edge's health checks run until this context ends: the test's,
	// so none logs after the test is over.
	h, closeEdge, err := Open(t.Context(), &s, Setup{
		Backends: []Backend{{Name: "user", Routes: module.Routes{Services: []string{userv1connect.UserServiceName}},
			Targets: []*url.URL{userURL}}},
		Keys: keys, Verifier: verifier, Issuer: testIssuer, Audience: "emporium",
		Users:   userv1connect.NewUserServiceClient(http.DefaultClient, users.URL, servetest.Bearer(testInternalSecret)),
		Handler: opts, Log: log,
	})
	t.Cleanup(closeEdge)
	if err != nil {
		t.Fatal(err)
	}
	return &shop{h: h, users: users}
}

func (s *shop) register(t *testing.T, email string) {
	t.Helper()
	_, err := userv1connect.NewUserServiceClient(http.DefaultClient, s.users.URL).
		Register(context.Background(), &userv1.RegisterRequest{Email: email, Password: testPassword})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
}

// login posts a Connect JSON Login from address ip.
func (s *shop) login(email, pw, ip string) *httptest.ResponseRecorder {
	body := `{"email":"` + email + `","password":"` + pw + `"}`
	req := httptest.NewRequest(http.MethodPost, "/emporium.auth.v1.AuthService/Login", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "10.0.0.1:4000" // the load balancer
	req.Header.Set("X-Forwarded-For", ip)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

func TestAccountLimitRefusalCarriesItsOwnHeaders(t *testing.T) {
	t.Parallel()
	s := newShop(t, "default=1000:1000,auth=1000:1000,login=1000:1000,login-account=0.001:3")
	s.register(t, "hal@example.com")
	for i := range 3 {
		if rec := s.login("hal@example.com", "a wrong guess!!", "203.0.113.7"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s, want 401", i+1, rec.Code, rec.Body)
		}
	}
	rec := s.login("hal@example.com", "a wrong guess!!", "203.0.113.7")
	h := rec.Header()
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "too many sign-in attempts") {
		t.Fatalf("4th guess: %d %s, want 429 from the account limit", rec.Code, rec.Body)
	}
	// The per-address limit (1000, nearly full) must not speak for the
	// account limit that refused: its headers would say "keep trying".
	if h.Get("Retry-After") == "" || h.Values("RateLimit-Limit")[0] != "3" || len(h.Values("RateLimit-Limit")) != 1 ||
		h.Get("RateLimit-Remaining") != "0" || len(h.Values("RateLimit-Remaining")) != 1 {
		t.Errorf("429 headers %v, want Retry-After and RateLimit-Limit 3, Remaining 0, once each", h)
	}
	// An allowed call still carries the per-address bucket's headers.
	if rec := s.login("nobody@example.com", "a wrong guess!!", "203.0.113.8"); rec.Header().Get("RateLimit-Limit") != "1000" || rec.Header().Get("Retry-After") != "" {
		t.Errorf("allowed call's headers: %v, want the login class's RateLimit-Limit 1000", rec.Header())
	}
}

func TestWrongPasswordsElsewhereDoNotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	s := newShop(t, "default=1000:1000,auth=1000:1000,login=1000:1000,login-account=0.001:3,login-account-all=0.001:8")
	s.register(t, "ivy@example.com")
	// An attacker keeps guessing from one address until refused.
	for range 6 {
		s.login("ivy@example.com", "a wrong guess!!", "198.51.100.66")
	}
	if rec := s.login("ivy@example.com", testPassword, "198.51.100.66"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("attacker's address after 6 guesses: %d, want 429", rec.Code)
	}
	// The owner, elsewhere, still signs in.
	if rec := s.login("ivy@example.com", testPassword, "203.0.113.20"); rec.Code != http.StatusOK {
		t.Fatalf("owner from their own address: %d %s, want 200", rec.Code, rec.Body)
	}
	// Guessing spread over many addresses meets the account-wide limit
	// (3 attacker guesses + 1 owner sign-in + 4 more = 8, then refused).
	var last *httptest.ResponseRecorder
	for _, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"} {
		last = s.login("ivy@example.com", "a wrong guess!!", ip)
	}
	if last.Code != http.StatusTooManyRequests || last.Header().Get("RateLimit-Limit") != "8" || last.Header().Get("Retry-After") == "" {
		t.Errorf("guesses from many addresses: %d %v, want 429 from the account-wide limit of 8", last.Code, last.Header())
	}
}
