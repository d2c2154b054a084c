// Package channel is the notification service's port to the systems that
// carry messages: email (SMTP through go-mail, or the dev mailbox) and SMS
// (Twilio, or the dev mailbox). Every adapter passes the same contract
// tests, against a real SMTP server and a Twilio fake speaking Twilio's
// Messages API.
//
// Adapters tell permanent failures (a refused address, a number Twilio
// rejects) from transient ones (a server down, a timeout) with Permanent:
// the service gives up on the first at once and retries the second. A
// failure after the whole message went out, before the provider's answer
// came back, is neither: the provider may have taken it. Adapters mark it
// Unconfirmed, and the service does not send it again (nobody gets a
// message twice) but leaves it for staff to check.
package channel

import (
	"context"
	"errors"
)

// Email is one email.
type Email struct {
	// ID identifies the message for ever (the delivery id): adapters derive
	// the SMTP Message-ID from it, and the dev mailbox stores it once.
	ID      string
	To      string
	Subject string
	Text    string
	HTML    string // optional
}

// SMS is one text message.
type SMS struct {
	ID   string // as Email.ID
	To   string // E.164, e.g. +14155550100
	Body string
}

// EmailSender delivers emails. SendEmail returns the provider's id of the
// accepted message.
type EmailSender interface {
	SendEmail(ctx context.Context, e Email) (providerID string, err error)
}

// SMSSender delivers text messages. SendSMS returns the provider's id of
// the accepted message.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) (providerID string, err error)
}

// PermanentError is a failure no retry can fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as one no retry can fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// UnconfirmedError is a failure that leaves unknown whether the provider
// took the message: the connection broke after the message was sent and
// before the provider answered.
type UnconfirmedError struct{ Err error }

func (e *UnconfirmedError) Error() string { return e.Err.Error() }
func (e *UnconfirmedError) Unwrap() error { return e.Err }

// Unconfirmed marks err as one after which the message may have been
// taken.
func Unconfirmed(err error) error {
	if err == nil {
		return nil
	}
	return &UnconfirmedError{Err: err}
}

// IsUnconfirmed reports whether err (or an error it wraps) leaves the
// outcome unknown.
func IsUnconfirmed(err error) bool {
	var u *UnconfirmedError
	return errors.As(err, &u)
}

// IsPermanent reports whether err (or an error it wraps) is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
