// Package carrierhttp is the HTTP plumbing the UPS and FedEx adapters share:
// OAuth client-credentials tokens cached until shortly before they expire
// and refreshed once when the API answers 401, bounded retries with backoff,
// response size limits, and carrier errors turned into platform error kinds
// whose messages staff can act on.
//
// # Retries and label purchases
//
// A request marked Idempotent (rating, tracking, voiding, the token itself)
// is retried on a transport error or timeout, a 5xx and a 429. A request
// that is not (buying a label) is retried only when the carrier cannot have
// acted on it: the connection was never made (a dial error), the API
// answered 429 (rate limited before any processing) or 401 (our token was
// refused, so nothing was bought). After a 5xx or a lost answer it is not
// resent, because neither UPS nor FedEx offers an idempotency key for
// shipments and a resend could buy a second label: the caller gets
// errs.Unavailable saying the purchase is in doubt.
//
// Credentials and tokens never appear in errors, and the package logs
// nothing.
package carrierhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// Defaults for zero Config fields.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxAttempts      = 3
	DefaultBackoff          = 500 * time.Millisecond
	DefaultMaxBackoff       = 5 * time.Second
	DefaultMaxResponseBytes = 16 << 20 // labels come base64-encoded inside JSON
)

// Config configures a Client.
type Config struct {
	// Carrier names the carrier in every error, e.g. "ups".
	Carrier string
	// BaseURL is where the API is, e.g. "https://onlinetools.ups.com";
	// request paths are appended to it.
	BaseURL string
	// HTTPClient sends the requests; nil means a client with DefaultTimeout
	// per attempt.
	HTTPClient *http.Client
	// OAuth gets the bearer token for every request; nil sends none.
	OAuth *OAuth
	// MaxAttempts bounds the tries of one call (DefaultMaxAttempts when 0).
	MaxAttempts int
	// Backoff is the wait before the first retry, doubling after each up to
	// MaxBackoff, with jitter. A Retry-After from the carrier wins, capped
	// at MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// MaxResponseBytes bounds an answer's body; a longer one is an error.
	MaxResponseBytes int64
	// ParseErrors reads the carrier's error body into its list of errors;
	// nil or an empty result leaves only the HTTP status.
	ParseErrors func(body []byte) []Detail
}

// OAuth is an OAuth 2.0 client-credentials grant.
type OAuth struct {
	// TokenPath is the token endpoint under BaseURL, e.g. "/oauth/token".
	TokenPath    string
	ClientID     string
	ClientSecret string
	// CredentialsInBody sends client_id and client_secret as form fields
	// (FedEx) instead of HTTP Basic authentication (UPS).
	CredentialsInBody bool
	// Header is sent with the token request too (e.g. UPS's x-merchant-id).
	Header http.Header
	// Now is the clock for expiry; time.Now when nil.
	Now func() time.Time
	// RefreshBefore renews a token this long before it expires (60 s when
	// zero), so a token never expires in flight.
	RefreshBefore time.Duration
}

// Client calls one carrier's API. It is safe for concurrent use.
type Client struct {
	cfg    Config
	http   *http.Client
	tokens *tokenSource
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.Carrier == "" {
		return nil, errors.New("carrierhttp: Carrier is required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q is not an http(s) URL", cfg.Carrier, cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	c := &Client{cfg: cfg, http: cfg.HTTPClient}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if cfg.OAuth != nil {
		if cfg.OAuth.ClientID == "" || cfg.OAuth.ClientSecret == "" {
			return nil, fmt.Errorf("%s: the OAuth client id and secret are required", cfg.Carrier)
		}
		c.tokens = newTokenSource(c, *cfg.OAuth)
	}
	return c, nil
}

// Request is one API call.
type Request struct {
	// Op names the call in errors, e.g. "rate" or "create label".
	Op     string
	Method string
	Path   string // under BaseURL, e.g. "/api/rating/v2403/Shop"
	Query  url.Values
	Header http.Header
	// JSON is marshalled as the body; nil sends none.
	JSON any
	// Form is sent as an application/x-www-form-urlencoded body instead.
	Form url.Values
	// Idempotent marks a call that is safe to send twice (see the package
	// documentation).
	Idempotent bool
	// noAuth skips the bearer token (the token request itself).
	noAuth bool
}

// Detail is one error the carrier reported.
type Detail struct {
	Code    string
	Message string
}

// APIError is an error answer from the carrier: the cause inside the
// *errs.Error that Do returns, for adapters that treat some codes specially
// (e.g. "already voided").
type APIError struct {
	Carrier string
	Op      string
	Status  int
	Details []Detail
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Carrier, e.Op)
	if len(e.Details) > 0 {
		b.WriteString(": ")
		b.WriteString(e.describe())
	}
	fmt.Fprintf(&b, " (%d)", e.Status)
	return b.String()
}

// DetailText is the carrier's errors as one line, or the HTTP status text
// when it gave none.
func (e *APIError) DetailText() string {
	if len(e.Details) == 0 {
		return fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	}
	return e.describe()
}

func (e *APIError) describe() string {
	parts := make([]string, 0, len(e.Details))
	for _, d := range e.Details {
		switch {
		case d.Code != "" && d.Message != "":
			parts = append(parts, d.Message+" ["+d.Code+"]")
		case d.Message != "":
			parts = append(parts, d.Message)
		default:
			parts = append(parts, d.Code)
		}
	}
	return strings.Join(parts, "; ")
}

// HasCode reports whether the carrier gave one of codes.
func (e *APIError) HasCode(codes ...string) bool {
	for _, d := range e.Details {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}

// AsAPIError finds the carrier's error answer in err's chain.
func AsAPIError(err error) (*APIError, bool) {
	var a *APIError
	ok := errors.As(err, &a)
	return a, ok
}

// Do sends r and decodes a 2xx JSON answer into out (unless out is nil).
//
// Errors are platform kinds: a 4xx is errs.Invalid with the carrier's
// message (errs.NotFound for 404); refused credentials, a 5xx, 429 or
// transport failure that outlasts the retries, and an unreadable answer are
// errs.Unavailable. The *APIError is in the chain when the carrier answered.
func (c *Client) Do(ctx context.Context, r Request, out any) error {
	body, contentType, err := encodeBody(r)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", c.cfg.Carrier, r.Op, err)
	}
	refreshed := false
	backoff := c.cfg.Backoff
	for attempt := 1; ; attempt++ {
		var token string
		if c.tokens != nil && !r.noAuth {
			if token, err = c.tokens.token(ctx); err != nil {
				return err
			}
		}
		status, header, respBody, err := c.send(ctx, r, body, contentType, token)
		var retryAfter time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %s: %w", c.cfg.Carrier, r.Op, ctx.Err())
			}
			if !r.Idempotent && !beforeSend(err) {
				return &errs.Error{Kind: errs.Unavailable, Err: err, Message: fmt.Sprintf(
					"%s: %s: the request was sent but no answer came back; it may or may not have taken effect at %s, check there before trying again",
					c.cfg.Carrier, r.Op, c.cfg.Carrier)}
			}
			if attempt >= c.cfg.MaxAttempts {
				return &errs.Error{Kind: errs.Unavailable, Err: err,
					Message: fmt.Sprintf("%s: %s: cannot reach the API after %d attempts", c.cfg.Carrier, r.Op, attempt)}
			}
		case status == http.StatusUnauthorized && c.tokens != nil && !r.noAuth && !refreshed:
			// The token expired early or was revoked: one new token, one resend.
			// Nothing was done with a refused token, so this is safe for any call.
			c.tokens.invalidate(token)
			refreshed = true
			attempt--
			continue
		case status >= 200 && status < 300:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(respBody, out); err != nil {
				return &errs.Error{Kind: errs.Unavailable, Err: err,
					Message: fmt.Sprintf("%s: %s: the API's answer is not the JSON expected (%d)", c.cfg.Carrier, r.Op, status)}
			}
			return nil
		case status == http.StatusTooManyRequests || status >= 500:
			apiErr := c.apiError(r.Op, status, respBody)
			retryable := r.Idempotent || status == http.StatusTooManyRequests
			if !retryable {
				return &errs.Error{Kind: errs.Unavailable, Err: apiErr, Message: fmt.Sprintf(
					"%s: %s: the API failed (%d); it may or may not have taken effect at %s, check there before trying again",
					c.cfg.Carrier, r.Op, status, c.cfg.Carrier)}
			}
			if attempt >= c.cfg.MaxAttempts {
				return &errs.Error{Kind: errs.Unavailable, Err: apiErr,
					Message: fmt.Sprintf("%s: %s: the API keeps failing (%d after %d attempts)", c.cfg.Carrier, r.Op, status, attempt)}
			}
			retryAfter = parseRetryAfter(header.Get("Retry-After"))
		default:
			return c.clientError(r.Op, status, respBody)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		if retryAfter > 0 {
			wait = retryAfter
		}
		if err := sleep(ctx, min(wait, c.cfg.MaxBackoff)); err != nil {
			return fmt.Errorf("%s: %s: %w", c.cfg.Carrier, r.Op, err)
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
}

func (c *Client) clientError(op string, status int, body []byte) error {
	apiErr := c.apiError(op, status, body)
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return &errs.Error{Kind: errs.Unavailable, Err: apiErr, Message: fmt.Sprintf(
			"%s: %s: the API refuses our credentials (%d); check the client id, secret and account number", c.cfg.Carrier, op, status)}
	case http.StatusNotFound:
		return &errs.Error{Kind: errs.NotFound, Err: apiErr, Message: c.cfg.Carrier + ": " + c.message(apiErr)}
	}
	return &errs.Error{Kind: errs.Invalid, Err: apiErr, Message: c.cfg.Carrier + ": " + c.message(apiErr)}
}

func (c *Client) message(e *APIError) string {
	if len(e.Details) == 0 {
		return fmt.Sprintf("%s refused (%d %s)", e.Op, e.Status, http.StatusText(e.Status))
	}
	return e.describe()
}

func (c *Client) apiError(op string, status int, body []byte) *APIError {
	e := &APIError{Carrier: c.cfg.Carrier, Op: op, Status: status}
	if c.cfg.ParseErrors != nil && len(body) > 0 {
		e.Details = c.cfg.ParseErrors(body)
	}
	return e
}

func (c *Client) send(ctx context.Context, r Request, body []byte, contentType, token string) (int, http.Header, []byte, error) {
	u := c.cfg.BaseURL + r.Path
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if r.noAuth && c.tokens != nil {
		c.tokens.authorize(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return 0, nil, nil, err
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return 0, nil, nil, fmt.Errorf("the answer is over %d bytes", c.cfg.MaxResponseBytes)
	}
	return resp.StatusCode, resp.Header, data, nil
}

func encodeBody(r Request) ([]byte, string, error) {
	switch {
	case r.Form != nil:
		return []byte(r.Form.Encode()), "application/x-www-form-urlencoded", nil
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		return b, "application/json", err
	}
	return nil, "", nil
}

// beforeSend reports whether err happened before any byte of the request
// could reach the carrier: the connection was never made.
func beforeSend(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func parseRetryAfter(v string) time.Duration {
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
