package channel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// TwilioConfig configures Twilio's Messages API.
type TwilioConfig struct {
	AccountSID string // AC…
	AuthToken  string
	// From is the sending number (E.164) or a messaging service's
	// alphanumeric sender.
	From string
	// BaseURL replaces https://api.twilio.com (a test fake); empty: Twilio.
	BaseURL string
	// HTTPClient makes the calls; default a client with a 10 s timeout that
	// follows no redirects (twilio-go's default). The adapter uses a copy
	// whose transport notes whether each request was written out.
	HTTPClient *http.Client
}

// Twilio sends SMS through Twilio with twilio-go.
type Twilio struct {
	api  *twapi.ApiService
	from string
}

var _ SMSSender = (*Twilio)(nil)

// NewTwilio checks cfg and returns the adapter.
//
// twilio-go has no base URL setting: its API services build
// https://api.twilio.com/… themselves. It does take any client.BaseClient
// (its documented extension point), so BaseURL is honoured by a BaseClient
// that moves each request to BaseURL before twilio-go's own client sends
// it, with its authentication, form encoding and error decoding intact.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	switch {
	case cfg.AccountSID == "" || cfg.AuthToken == "":
		return nil, errors.New("twilio: account SID and auth token are required")
	case cfg.From == "":
		return nil, errors.New("twilio: a From number is required")
	}
	inner := &twclient.Client{Credentials: twclient.NewCredentials(cfg.AccountSID, cfg.AuthToken), HTTPClient: tracked(cfg.HTTPClient)}
	inner.SetAccountSid(cfg.AccountSID)
	var base twclient.BaseClient = inner
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("twilio: base URL %q: want http(s)://host[:port]", cfg.BaseURL)
		}
		base = &rebased{Client: inner, base: u}
	}
	// Not twapi.NewApiServiceWithClient: it reads TWILIO_EDGE and
	// TWILIO_REGION from the environment, which would move requests to
	// another host behind our configuration's back.
	handler := &twclient.RequestHandler{Client: base}
	return &Twilio{api: twapi.NewApiService(handler), from: cfg.From}, nil
}

// rebased sends twilio-go's requests to another scheme and host.
type rebased struct {
	*twclient.Client
	base *url.URL
}

func (r *rebased) SendRequest(method, rawURL string, data url.Values, headers map[string]any, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = r.base.Scheme, r.base.Host
	u.Path = strings.TrimRight(r.base.Path, "/") + u.Path
	return r.Client.SendRequest(method, u.String(), data, headers, body...)
}

// SendSMS implements SMSSender. Twilio's 4xx answers (an invalid or
// unreachable number, a blocked recipient) are permanent, except 429 (too
// many requests); 5xx answers and failures before the request was written
// (a refused connection, a failed lookup) are transient: Twilio cannot
// have taken a message it never received.
//
// A failure after the request was written out — the connection reset or
// the timeout hit while waiting for the answer, or a 2xx answer cut short
// — is Unconfirmed: Twilio may have queued the message, and the Messages
// API has no idempotency key that would make a resend safe, so the
// delivery is not sent again (nobody gets an SMS twice) and staff see why.
//
// twilio-go takes no context, so ctx only stops a send that has not
// started; the HTTP client's timeout bounds one that has.
func (t *Twilio) SendSMS(ctx context.Context, m SMS) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	params := &twapi.CreateMessageParams{}
	params.SetTo(m.To)
	params.SetFrom(t.from)
	params.SetBody(m.Body)
	msg, err := t.api.CreateMessage(params)
	if err != nil {
		var sent *sentError
		if errors.As(err, &sent) {
			return "", Unconfirmed(fmt.Errorf("twilio: the request was sent but its answer was lost; the message may have gone: %w", err))
		}
		var te *twclient.TwilioRestError
		if errors.As(err, &te) && te.Status >= 400 && te.Status < 500 && te.Status != http.StatusTooManyRequests {
			return "", Permanent(fmt.Errorf("twilio: error %d: %s", te.Code, te.Message))
		}
		return "", fmt.Errorf("twilio: %w", err)
	}
	if msg.Sid == nil || *msg.Sid == "" {
		return "", fmt.Errorf("twilio: the message was accepted without a sid")
	}
	return *msg.Sid, nil
}

// tracked returns a copy of c (twilio-go's default when nil) whose
// transport marks failures after the request was written with sentError.
// The client's Timeout moves into the transport: http.Client reports its
// own timeout as a new error that drops the cause, and so would hide that
// the request had gone out.
func tracked(c *http.Client) *http.Client {
	if c == nil {
		c = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       10 * time.Second,
		}
	}
	cp := *c
	next := cp.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	cp.Transport = writeTracking{next: next, timeout: cp.Timeout}
	cp.Timeout = 0
	return &cp
}

// sentError is a transport failure after the whole request was written
// out: the server may have acted on it.
type sentError struct{ err error }

func (e *sentError) Error() string { return e.err.Error() }
func (e *sentError) Unwrap() error { return e.err }

// writeTracking is a RoundTripper that tells failures before the request
// reached the server (safe to retry) from failures after it was written
// (the outcome is unknown), with httptrace's WroteRequest, which
// net/http reports after flushing the request to the connection. It
// bounds the whole exchange, reading the answer included, by timeout.
type writeTracking struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t writeTracking) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if t.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
	}
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	res, err := t.next.RoundTrip(req.WithContext(httptrace.WithClientTrace(ctx, trace)))
	if err != nil {
		cancel()
		if wrote.Load() {
			return nil, &sentError{err: err}
		}
		return nil, err
	}
	// An answer of success cut short: the message was taken, but we
	// cannot read its sid.
	res.Body = &trackedBody{ReadCloser: res.Body, cancel: cancel, success: res.StatusCode >= 200 && res.StatusCode < 300}
	return res, nil
}

// trackedBody ends the exchange's timeout when closed, and marks a failed
// read of a success answer with sentError.
type trackedBody struct {
	io.ReadCloser
	cancel  context.CancelFunc
	success bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.success {
		err = &sentError{err: err}
	}
	return n, err
}

func (b *trackedBody) Close() error {
	defer b.cancel()
	return b.ReadCloser.Close()
}
