package carrierhttp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// tokenSource caches one access token. One caller at a time fetches a new
// token; the others wait for it (or for their context).
type tokenSource struct {
	c   *Client
	cfg OAuth

	lock      chan struct{} // a mutex whose waiters can give up
	current   string
	refreshAt time.Time
}

func newTokenSource(c *Client, cfg OAuth) *tokenSource {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = time.Minute
	}
	return &tokenSource{c: c, cfg: cfg, lock: make(chan struct{}, 1)}
}

func (ts *tokenSource) token(ctx context.Context) (string, error) {
	select {
	case ts.lock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-ts.lock }()
	if ts.current != "" && ts.cfg.Now().Before(ts.refreshAt) {
		return ts.current, nil
	}
	tok, lifetime, err := ts.fetch(ctx)
	if err != nil {
		return "", err
	}
	// Renew RefreshBefore ahead of expiry, or halfway for short-lived tokens.
	ts.current, ts.refreshAt = tok, ts.cfg.Now().Add(lifetime-min(ts.cfg.RefreshBefore, lifetime/2))
	return tok, nil
}

// invalidate drops bad if it is still the cached token, so the next call
// fetches a new one; a token another caller already replaced stays.
func (ts *tokenSource) invalidate(bad string) {
	ts.lock <- struct{}{}
	defer func() { <-ts.lock }()
	if ts.current == bad {
		ts.current = ""
	}
}

// authorize adds the client credentials to the token request, for the
// Basic style.
func (ts *tokenSource) authorize(req *http.Request) {
	for k, vs := range ts.cfg.Header {
		req.Header[k] = vs
	}
	if !ts.cfg.CredentialsInBody {
		req.SetBasicAuth(ts.cfg.ClientID, ts.cfg.ClientSecret)
	}
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	// expires_in is a number at FedEx and a string at UPS.
	ExpiresIn json.RawMessage `json:"expires_in"`
}

func (ts *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if ts.cfg.CredentialsInBody {
		form.Set("client_id", ts.cfg.ClientID)
		form.Set("client_secret", ts.cfg.ClientSecret)
	}
	var a tokenAnswer
	err := ts.c.Do(ctx, Request{Op: "get an access token", Method: http.MethodPost, Path: ts.cfg.TokenPath,
		Form: form, Idempotent: true, noAuth: true}, &a)
	if err != nil {
		return "", 0, err
	}
	secs, perr := strconv.ParseInt(string(trimQuotes(a.ExpiresIn)), 10, 64)
	if a.AccessToken == "" || perr != nil || secs <= 0 {
		return "", 0, errs.Unavailablef("%s: get an access token: the answer has no access_token or a bad expires_in %s",
			ts.c.cfg.Carrier, a.ExpiresIn)
	}
	return a.AccessToken, time.Duration(secs) * time.Second, nil
}

func trimQuotes(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// String hides the credentials if an OAuth is ever printed.
func (o OAuth) String() string {
	return fmt.Sprintf("OAuth{TokenPath: %s, ClientID: %s, ClientSecret: [redacted]}", o.TokenPath, o.ClientID)
}
