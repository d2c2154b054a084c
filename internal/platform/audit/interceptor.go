package audit

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

type logKey struct{}

// Attach returns h with l as the audit log of every request it serves: the
// log the Interceptor writes to. A process attaches each service's log to
// that service's handler (module.OpenGroup does).
func Attach(h http.Handler, l *Log) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), logKey{}, l)))
	})
}

// FromContext is the audit log Attach put in ctx, or nil.
func FromContext(ctx context.Context) *Log {
	l, _ := ctx.Value(logKey{}).(*Log)
	return l
}

// Recorded reports whether calls of a method are recorded: mutations (any
// idempotency level but NO_SIDE_EFFECTS) of staff and admin RPCs.
func Recorded(md protoreflect.MethodDescriptor) bool {
	if md == nil {
		return false
	}
	switch authz.RuleOf(md) {
	case authv1.Access_ACCESS_STAFF, authv1.Access_ACCESS_ADMIN:
	default:
		return false
	}
	opts, _ := md.Options().(*descriptorpb.MethodOptions)
	return opts.GetIdempotencyLevel() != descriptorpb.MethodOptions_NO_SIDE_EFFECTS
}

// writeTimeout bounds writing one entry, which happens after the call and
// outlives a caller that hung up.
const writeTimeout = 10 * time.Second

// Interceptor records every Recorded unary call made to a handler that has
// an audit log attached. It runs right after the access check, which has
// put the caller in the context, and outside validation, so a call refused
// for bad input is recorded with invalid_argument. The entry is written
// after the handler returns, in its own transaction; when that write fails
// the call's result stands and log gets an error with the trace id.
// Streaming calls are not recorded (no staff mutation streams).
func Interceptor(log *slog.Logger) connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			l := FromContext(ctx)
			md, _ := req.Spec().Schema.(protoreflect.MethodDescriptor)
			if l == nil || !Recorded(md) {
				return next(ctx, req)
			}
			res, err := next(ctx, req)
			e := &Entry{
				Procedure: req.Spec().Procedure,
				Code:      "ok",
				TraceID:   traceID(ctx),
			}
			if p := authz.FromContext(ctx); p != nil {
				e.Actor, e.ActorRoles = p.Subject, strings.Join(p.Roles, ",")
			}
			msg, _ := req.Any().(proto.Message)
			var out proto.Message
			if res != nil {
				out, _ = res.Any().(proto.Message)
			}
			e.TargetID, e.Request = TargetOf(msg, out), RedactedJSON(msg)
			if err != nil {
				e.Code = errs.CodeOf(err).String()
			}
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
			defer cancel()
			if werr := l.Append(wctx, e); werr != nil {
				log.ErrorContext(ctx, "audit: entry not written", "service", l.Service(), "procedure", e.Procedure,
					"actor", e.Actor, "target", e.TargetID, "code", e.Code, "trace_id", e.TraceID, "err", werr)
			}
			return res, err
		}
	})
}

func traceID(ctx context.Context) string {
	if id := trace.SpanContextFromContext(ctx).TraceID(); id.IsValid() {
		return id.String()
	}
	return ""
}
