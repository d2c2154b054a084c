package carrierhttp

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

const (
	testID     = "client-id-123"
	testSecret = "s3cret-never-shown"
)

// api is a small carrier API: a token endpoint (Basic or form credentials)
// and /thing, whose answers the test scripts.
type api struct {
	t          *testing.T
	formCreds  bool
	lifetime   string // expires_in as sent
	tokens     atomic.Int64
	calls      atomic.Int64
	mu         sync.Mutex
	valid      map[string]bool
	script     []int // statuses /thing answers in turn; 200 when used up
	lastAuth   string
	tokenFails int // token requests answered 401 first
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.URL.Path {
	case "/oauth/token":
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, "bad grant", http.StatusBadRequest)
			return
		}
		id, secret, basic := r.BasicAuth()
		if a.formCreds {
			id, secret, basic = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), false
		}
		if basic == a.formCreds || id != testID || secret != testSecret || a.tokenFails > 0 {
			a.tokenFails--
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"NOT.AUTHORIZED.ERROR","message":"bad client"}]}`))
			return
		}
		n := a.tokens.Add(1)
		tok := "tok-" + string(rune('a'+n))
		a.valid[tok] = true
		_, _ = w.Write([]byte(`{"access_token":"` + tok + `","token_type":"Bearer","expires_in":` + a.lifetime + `}`))
	case "/thing":
		a.calls.Add(1)
		a.lastAuth = r.Header.Get("Authorization")
		if !a.valid[strings.TrimPrefix(a.lastAuth, "Bearer ")] {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"NOT.AUTHORIZED.ERROR","message":"expired"}]}`))
			return
		}
		status := http.StatusOK
		if len(a.script) > 0 {
			status, a.script = a.script[0], a.script[1:]
		}
		w.WriteHeader(status)
		switch {
		case status == http.StatusOK:
			_, _ = w.Write([]byte(`{"ok":true}`))
		default:
			_, _ = w.Write([]byte(`{"errors":[{"code":"E` + http.StatusText(status)[:3] + `","message":"status ` + http.StatusText(status) + `"}]}`))
		}
	default:
		http.NotFound(w, r)
	}
}

func parseErrors(body []byte) []Detail {
	var b struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if json.Unmarshal(body, &b) != nil {
		return nil
	}
	var out []Detail
	for _, e := range b.Errors {
		out = append(out, Detail{Code: e.Code, Message: e.Message})
	}
	return out
}

func newAPI(t *testing.T, formCreds bool, lifetime string) (*api, *Client, *clocktest.Clock) {
	t.Helper()
	a := &api{t: t, formCreds: formCreds, lifetime: lifetime, valid: map[string]bool{}}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	clock := clocktest.New(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
	c, err := New(Config{
		Carrier: "acme", BaseURL: srv.URL, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		MaxResponseBytes: 1000, ParseErrors: parseErrors,
		OAuth: &OAuth{TokenPath: "/oauth/token", ClientID: testID, ClientSecret: testSecret, CredentialsInBody: formCreds, Now: clock.Now},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, c, clock
}

func get(c *Client, idempotent bool) error {
	var out struct{ OK bool }
	err := c.Do(context.Background(), Request{Op: "get thing", Method: http.MethodPost, Path: "/thing", JSON: map[string]int{"a": 1}, Idempotent: idempotent}, &out)
	if err == nil && !out.OK {
		return errs.Invalidf("answer not decoded")
	}
	return err
}

func TestTokenCachedAndRenewed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		formCreds bool
		lifetime  string
	}{
		{"basic auth, expires_in as a string (UPS)", false, `"3600"`},
		{"form credentials, expires_in as a number (FedEx)", true, `3600`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, c, clock := newAPI(t, tt.formCreds, tt.lifetime)
			for range 3 {
				if err := get(c, true); err != nil {
					t.Fatal(err)
				}
			}
			if n := a.tokens.Load(); n != 1 {
				t.Errorf("%d token fetches for 3 calls, want 1", n)
			}
			clock.Advance(58 * time.Minute)
			if err := get(c, true); err != nil {
				t.Fatal(err)
			}
			if n := a.tokens.Load(); n != 1 {
				t.Errorf("%d token fetches two minutes before expiry, want 1", n)
			}
			clock.Advance(90 * time.Second) // within a minute of expiry: renew first
			if err := get(c, true); err != nil {
				t.Fatal(err)
			}
			if n := a.tokens.Load(); n != 2 {
				t.Errorf("%d token fetches after nearing expiry, want 2", n)
			}
			if a.lastAuth != "Bearer tok-c" {
				t.Errorf("sent %q, want the new token", a.lastAuth)
			}
		})
	}
}

func TestTokenFetchedOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	a, c, _ := newAPI(t, false, `"3600"`)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if err := get(c, true); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := a.tokens.Load(); n != 1 {
		t.Errorf("%d token fetches, want 1", n)
	}
}

func TestRevokedTokenRefreshedOnce(t *testing.T) {
	t.Parallel()
	a, c, _ := newAPI(t, true, `3600`)
	if err := get(c, false); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	clear(a.valid) // the carrier revokes every token early
	a.mu.Unlock()
	// Even a label purchase is resent: a 401 means nothing was done.
	if err := get(c, false); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := a.tokens.Load(); n != 2 {
		t.Errorf("%d token fetches, want exactly one more after the 401", n)
	}
	if n := a.calls.Load(); n != 3 {
		t.Errorf("%d calls, want 3 (ok, 401, ok)", n)
	}
}

func TestRefusedCredentials(t *testing.T) {
	t.Parallel()
	a, c, _ := newAPI(t, false, `"3600"`)
	a.tokenFails = 100
	err := get(c, true)
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "credentials (401)") {
		t.Fatalf("err = %v, want Unavailable about credentials", err)
	}
	if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), testID+":") {
		t.Errorf("the error shows the credentials: %v", err)
	}
	if a.calls.Load() != 0 {
		t.Error("called the API without a token")
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		idempotent bool
		script     []int
		wantKind   errs.Kind // Internal: no error
		wantMsg    string
		wantCalls  int64
	}{
		{"5xx retried then ok", true, []int{503, 502}, errs.Internal, "", 3},
		{"5xx outlasts the retries", true, []int{503, 503, 503, 503}, errs.Unavailable, "acme: get thing: the API keeps failing (503 after 3 attempts)", 3},
		{"a purchase is not resent after a 5xx", false, []int{500}, errs.Unavailable, "may or may not have taken effect", 1},
		{"429 is resent even for a purchase", false, []int{429, 429}, errs.Internal, "", 3},
		{"400 is the caller's", true, []int{400}, errs.Invalid, "acme: status Bad Request [EBad]", 1},
		{"404 is not found", true, []int{404}, errs.NotFound, "status Not Found", 1},
		{"403 is our configuration", true, []int{403}, errs.Unavailable, "refuses our credentials (403)", 1},
		{"422 is the caller's too", true, []int{422}, errs.Invalid, "acme: status Unprocessable Entity [EUnp]", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, c, _ := newAPI(t, false, `"3600"`)
			a.script = tt.script
			err := get(c, tt.idempotent)
			if tt.wantKind == errs.Internal {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
			} else if !errs.Is(err, tt.wantKind) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want kind %v with %q", err, tt.wantKind, tt.wantMsg)
			}
			if n := a.calls.Load(); n != tt.wantCalls {
				t.Errorf("%d calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestOversizedAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"pad":"` + strings.Repeat("x", 5000) + `"}`))
	}))
	defer srv.Close()
	c, err := New(Config{Carrier: "acme", BaseURL: srv.URL, MaxResponseBytes: 1000, MaxAttempts: 2, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(context.Background(), Request{Op: "get", Method: http.MethodGet, Path: "/", Idempotent: true}, &struct{}{})
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "over 1000 bytes") {
		t.Errorf("err = %v, want Unavailable about the size", err)
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: every dial is refused
	c, err := New(Config{Carrier: "acme", BaseURL: "http://" + addr, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, idempotent := range []bool{true, false} {
		err := c.Do(context.Background(), Request{Op: "buy", Method: http.MethodPost, Path: "/", JSON: 1, Idempotent: idempotent}, nil)
		// A refused dial is safe to retry even for a purchase.
		if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "cannot reach the API after 3 attempts") {
			t.Errorf("idempotent=%v: err = %v", idempotent, err)
		}
	}
}

func TestLostAnswerToPurchase(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		// Take the request, then drop the connection without an answer.
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c, err := New(Config{Carrier: "acme", BaseURL: srv.URL, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(context.Background(), Request{Op: "create label", Method: http.MethodPost, Path: "/ship", JSON: 1}, nil)
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "may or may not have taken effect") {
		t.Errorf("err = %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d sends of a purchase whose answer was lost, want 1", calls.Load())
	}
	calls.Store(0)
	err = c.Do(context.Background(), Request{Op: "track", Method: http.MethodGet, Path: "/track", Idempotent: true}, nil)
	if !errs.Is(err, errs.Unavailable) || calls.Load() != 3 {
		t.Errorf("tracking with lost answers: %v after %d sends, want Unavailable after 3", err, calls.Load())
	}
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{BaseURL: "https://x"},
		{Carrier: "acme", BaseURL: "ftp://x"},
		{Carrier: "acme", BaseURL: "https://x", OAuth: &OAuth{ClientID: "id"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if got := (OAuth{ClientID: "id", ClientSecret: testSecret}).String(); strings.Contains(got, testSecret) {
		t.Errorf("OAuth prints its secret: %s", got)
	}
	if diff := cmp.Diff([]Detail{{"A", "b"}}, parseErrors([]byte(`{"errors":[{"code":"A","message":"b"}]}`))); diff != "" {
		t.Error(diff)
	}
}
