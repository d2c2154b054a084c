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
// validation) pass through; everything else is logged with the trace id and
// replaced by a bare internal error, so no detail of our internals leaks.
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

func toConnect(ctx context.Context, log *slog.Logger, procedure string, err error) error {
	var e *Error
	var ce *connect.Error
	switch {
	case errors.As(err, &e):
		if e.Kind != Internal {
			return connect.NewError(e.Kind.Code(), errors.New(e.Message))
		}
		// An explicit internal error is masked even when it wraps a Connect
		// error from a call we made: that code is about our hop, not theirs.
	case errors.As(err, &ce) && ce.Code() != connect.CodeInternal && ce.Code() != connect.CodeUnknown:
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, errors.New("request canceled"))
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, errors.New("deadline exceeded"))
	}
	traceID := trace.SpanContextFromContext(ctx).TraceID()
	log.ErrorContext(ctx, "internal error", "procedure", procedure, "trace_id", traceID.String(), "err", err)
	msg := "internal error"
	if traceID.IsValid() {
		msg += " (trace " + traceID.String() + ")"
	}
	return connect.NewError(connect.CodeInternal, errors.New(msg))
}
