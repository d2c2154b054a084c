package channel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS policies of SMTPConfig.TLS.
const (
	TLSMandatory     = "mandatory"     // STARTTLS, or no mail goes
	TLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	TLSNone          = "none"          // plain text (a relay on localhost)
	TLSImplicit      = "implicit"      // SMTPS: TLS from the first byte (port 465)
)

// SMTPConfig configures an SMTP relay.
type SMTPConfig struct {
	Host string
	Port int // default 587 (465 with TLSImplicit)
	// Username and Password authenticate (SMTP AUTH, the best mechanism the
	// server offers); both empty: no authentication.
	Username string
	Password string
	TLS      string // a TLS* policy; default TLSMandatory
	// From is the sender, e.g. "Emporium <shop@example.com>".
	From string
	// Timeout bounds a whole send; default 30 s.
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests trust their own CA).
	TLSConfig *tls.Config
}

// SMTP sends email through an SMTP relay with go-mail, one connection per
// message.
type SMTP struct {
	cfg    SMTPConfig
	domain string // of From, for Message-IDs
	opts   []gomail.Option
}

var _ EmailSender = (*SMTP)(nil)

// NewSMTP checks cfg and returns the adapter.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: host is required")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from address %q: %w", cfg.From, err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithTimeout(cfg.Timeout)}
	port := cfg.Port
	switch cfg.TLS {
	case "", TLSMandatory:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
		if port == 0 {
			port = 465
		}
	default:
		return nil, fmt.Errorf("smtp: TLS policy %q: want %s, %s, %s or %s", cfg.TLS, TLSMandatory, TLSOpportunistic, TLSNone, TLSImplicit)
	}
	if port == 0 {
		port = 587
	}
	opts = append(opts, gomail.WithPort(port))
	if cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(cfg.TLSConfig))
	}
	switch {
	case (cfg.Username != "" || cfg.Password != "") && cfg.TLS == TLSNone:
		// go-mail's discovery refuses to send a password in the clear;
		// choosing no TLS is the operator saying the link is private.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlainNoEnc),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	case cfg.Username != "" || cfg.Password != "":
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	default:
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthNoAuth))
	}
	// Reject the settings now rather than at the first send.
	if _, err := gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	return &SMTP{cfg: cfg, domain: domain, opts: opts}, nil
}

// MessageID is the Message-ID header value (without angle brackets) of the
// email with id: the same on every attempt, so receivers that keep
// Message-IDs can tell a resend from a new message.
func (s *SMTP) MessageID(id string) string { return id + "@" + s.domain }

// SendEmail implements EmailSender. 5xx replies (the address is refused,
// the message is rejected) are permanent; a connection lost between the
// end of the message and the relay's answer is Unconfirmed; anything else
// may pass later.
func (s *SMTP) SendEmail(ctx context.Context, e Email) (string, error) {
	m := gomail.NewMsg()
	if err := m.From(s.cfg.From); err != nil {
		return "", Permanent(fmt.Errorf("smtp: from: %w", err))
	}
	if err := m.To(e.To); err != nil {
		return "", Permanent(fmt.Errorf("smtp: recipient %q: %w", e.To, err))
	}
	id := s.MessageID(e.ID)
	m.SetMessageIDWithValue(id)
	m.SetDate()
	m.Subject(e.Subject)
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	c, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return "", fmt.Errorf("smtp: %w", err)
	}
	err = c.DialAndSendWithContext(ctx, m)
	if m.IsDelivered() {
		// The relay answered 250 to the end of DATA: it has the message.
		// An error after that (RSET or QUIT on a connection that broke)
		// must not make the message go again.
		return id, nil
	}
	if err != nil {
		return "", sendFailure(err)
	}
	return id, nil
}

// sendFailure classifies a failed send: 5xx replies are permanent; a
// connection that broke while the end of DATA was sent or its answer read
// leaves the outcome unknown; anything else may pass later.
func sendFailure(err error) error {
	err = fmt.Errorf("smtp: %w", err)
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return err
	}
	switch code := se.ErrorCode(); {
	case code >= 500 && code < 600:
		return Permanent(err)
	case code == 0 && se.Reason == gomail.ErrSMTPDataClose:
		return Unconfirmed(err)
	}
	return err
}
