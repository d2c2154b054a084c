package errs

import (
	"context"
	"errors"
	"log/slog"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/trace"
)

// Interceptor maps service errors to Connect errors. Kinds become their code
// with the safe message; Connect errors raised by other interceptors (such as
// validation) pass through; a dependency that could not be reached (the
// database restarting, say) becomes unavailable, for the caller to retry;
// everything else is logged with the trace id and replaced by a bare
// internal error, so no detail of our internals leaks.
func Interceptor(log *slog.Logger) connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			res, err := next(ctx, req)
			if err == nil {
				return res, nil
			}
			return nil, toConnect(ctx, log, req.Spec().Procedure, err)
		}
	})
}

// CodeOf is the Connect code the Interceptor gives a non-nil err that a
// handler or an inner interceptor returns.
func CodeOf(err error) connect.Code {
	if c, ok := safeCode(err); ok {
		return c
	}
	if unreachable(err) {
		return connect.CodeUnavailable
	}
	return connect.CodeInternal
}

// safeCode is the code of an error whose own message may be sent to the
// caller: a service error of a non-internal kind, a Connect error from
// another interceptor, a canceled or timed-out request.
func safeCode(err error) (connect.Code, bool) {
	var e *Error
	var ce *connect.Error
	switch {
	case errors.As(err, &e):
		if e.Kind != Internal {
			return e.Kind.Code(), true
		}
		// An explicit internal error is masked even when it wraps a Connect
		// error from a call we made: that code is about our hop, not theirs.
	case errors.As(err, &ce) && ce.Code() != connect.CodeInternal && ce.Code() != connect.CodeUnknown:
		return ce.Code(), true
	}
	switch {
	case errors.Is(err, context.Canceled):
		return connect.CodeCanceled, true
	case errors.Is(err, context.DeadlineExceeded):
		return connect.CodeDeadlineExceeded, true
	}
	return 0, false
}

func toConnect(ctx context.Context, log *slog.Logger, procedure string, err error) error {
	if code, ok := safeCode(err); ok {
		var e *Error
		var ce *connect.Error
		switch {
		case errors.As(err, &e) && e.Kind != Internal:
			return connect.NewError(code, errors.New(e.Message))
		case code == connect.CodeCanceled && errors.Is(err, context.Canceled):
			return connect.NewError(code, errors.New("request canceled"))
		case code == connect.CodeDeadlineExceeded && errors.Is(err, context.DeadlineExceeded):
			return connect.NewError(code, errors.New("deadline exceeded"))
		case errors.As(err, &ce):
			return err
		}
	}
	traceID := trace.SpanContextFromContext(ctx).TraceID()
	if unreachable(err) {
		log.WarnContext(ctx, "a dependency is unreachable", "procedure", procedure, "trace_id", traceID.String(), "err", err)
		return connect.NewError(connect.CodeUnavailable, errors.New("temporarily unavailable; try again"))
	}
	log.ErrorContext(ctx, "internal error", "procedure", procedure, "trace_id", traceID.String(), "err", err)
	msg := "internal error"
	if traceID.IsValid() {
		msg += " (trace " + traceID.String() + ")"
	}
	return connect.NewError(connect.CodeInternal, errors.New(msg))
}
