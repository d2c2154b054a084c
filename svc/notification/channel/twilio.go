package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

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
	// follows no redirects (twilio-go's default).
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
	inner := &twclient.Client{Credentials: twclient.NewCredentials(cfg.AccountSID, cfg.AuthToken), HTTPClient: cfg.HTTPClient}
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
// many requests); 5xx and network failures are transient.
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
