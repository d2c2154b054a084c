// Package errs gives services a small set of error kinds that one Connect
// interceptor maps to wire codes. Anything else is an internal error: it is
// logged with the trace id and the caller sees only "internal error".
package errs

import (
	"errors"
	"fmt"

	"connectrpc.com/connect"
)

// Kind is the class of a failure, independent of the wire protocol.
type Kind int

const (
	Internal Kind = iota
	NotFound
	Invalid
	Conflict // already exists
	Aborted  // concurrent modification; retry with fresh data
	Unauthenticated
	PermissionDenied
	FailedPrecondition
	Unavailable
	ResourceExhausted
)

var codes = map[Kind]connect.Code{
	Internal:           connect.CodeInternal,
	NotFound:           connect.CodeNotFound,
	Invalid:            connect.CodeInvalidArgument,
	Conflict:           connect.CodeAlreadyExists,
	Aborted:            connect.CodeAborted,
	Unauthenticated:    connect.CodeUnauthenticated,
	PermissionDenied:   connect.CodePermissionDenied,
	FailedPrecondition: connect.CodeFailedPrecondition,
	Unavailable:        connect.CodeUnavailable,
	ResourceExhausted:  connect.CodeResourceExhausted,
}

// Code is the Connect code for the kind.
func (k Kind) Code() connect.Code { return codes[k] }

// Error is a failure whose message is safe to show to the caller.
type Error struct {
	Kind    Kind
	Message string
	Err     error // optional cause, never sent to callers
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func newf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

func NotFoundf(format string, args ...any) *Error { return newf(NotFound, format, args...) }
func Invalidf(format string, args ...any) *Error  { return newf(Invalid, format, args...) }
func Conflictf(format string, args ...any) *Error { return newf(Conflict, format, args...) }
func Abortedf(format string, args ...any) *Error  { return newf(Aborted, format, args...) }
func Unauthenticatedf(format string, args ...any) *Error {
	return newf(Unauthenticated, format, args...)
}
func PermissionDeniedf(format string, args ...any) *Error {
	return newf(PermissionDenied, format, args...)
}
func FailedPreconditionf(format string, args ...any) *Error {
	return newf(FailedPrecondition, format, args...)
}
func Unavailablef(format string, args ...any) *Error { return newf(Unavailable, format, args...) }

// KindOf reports the kind of err: the kind of the first *Error in its chain,
// Internal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
