// Package kv opens the Redis client a process shares between its users
// (the edge's limits and sessions, token revocations, the catalog cache),
// with OpenTelemetry spans for its commands.
package kv

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/emporiumhq/emporium/internal/platform/telemetry"
)

// Open connects to the Redis at url (redis://[user:pass@]host:port/db,
// rediss:// for TLS). The client speaks RESP3, so DoCache keeps answers in
// this process's memory and Redis tells it the moment a key it holds
// changes (server-assisted client-side caching).
//
// tune, when given, adjusts the options before connecting (an
// OnInvalidations callback, say).
func Open(url string, tune ...func(*rueidis.ClientOption)) (rueidis.Client, error) {
	o, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("--redis-url: %w", err)
	}
	o.RetryDelay = retryDelay
	for _, f := range tune {
		f(&o)
	}
	c, err := rueidis.NewClient(o)
	if err != nil {
		return nil, fmt.Errorf("redis %s: %w", strings.Join(o.InitAddress, ","), err)
	}
	return Traced(c, nil), nil
}

// MaxReadRetries is how many times a read-only command that failed on a
// broken connection is sent again (after 10, 40 and 90 ms) before its error
// is returned.
const MaxReadRetries = 3

// retryDelay is the client's RetryDelay. rueidis' default retries a read
// until the caller's deadline: while Redis is down, every read on a
// request's path (a token revocation check, a session lookup) would hold
// the request for its whole deadline instead of failing at once to the
// caller's policy (accept signed tokens, fail the refresh with
// unavailable). A few quick retries still ride out a replaced connection.
func retryDelay(attempts int, _ rueidis.Completed, _ error) time.Duration {
	if attempts > MaxReadRetries {
		return -1
	}
	return time.Duration(attempts*attempts) * 10 * time.Millisecond
}

// Traced wraps c so that each command run inside a traced request or job
// is a client span named after the command (GET, EVALSHA…); keys and
// arguments stay out of spans (they hold session and token ids). Answers
// DoCache serves from local memory make no span: they never reach Redis.
// tp nil means the global tracer provider.
func Traced(c rueidis.Client, tp trace.TracerProvider) rueidis.Client {
	return traced{Client: c, tracer: telemetry.ChildSpans(tp).Tracer("github.com/emporiumhq/emporium/internal/platform/kv")}
}

type traced struct {
	rueidis.Client
	tracer trace.Tracer
}

var system = semconv.DBSystemNameRedis

func (t traced) start(ctx context.Context, name string, start time.Time, extra ...attribute.KeyValue) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start),
		trace.WithAttributes(append(extra, system, semconv.DBOperationName(name))...))
}

func end(span trace.Span, err error) {
	if err != nil && !rueidis.IsRedisNil(err) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

func (t traced) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	ctx, span := t.start(ctx, commandName(cmd.Commands()), time.Now())
	r := t.Client.Do(ctx, cmd)
	end(span, r.Error())
	return r
}

func (t traced) DoMulti(ctx context.Context, multi ...rueidis.Completed) []rueidis.RedisResult {
	ctx, span := t.start(ctx, "pipeline", time.Now(), semconv.DBOperationBatchSize(len(multi)))
	rs := t.Client.DoMulti(ctx, multi...)
	var err error
	for _, r := range rs {
		if e := r.Error(); e != nil && !rueidis.IsRedisNil(e) {
			err = e
			break
		}
	}
	end(span, err)
	return rs
}

func (t traced) DoCache(ctx context.Context, cmd rueidis.Cacheable, ttl time.Duration) rueidis.RedisResult {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return t.Client.DoCache(ctx, cmd, ttl)
	}
	// rueidis recycles a command once it has run: name it first.
	name, start := commandName(cmd.Commands()), time.Now()
	r := t.Client.DoCache(ctx, cmd, ttl)
	if r.IsCacheHit() {
		return r
	}
	_, span := t.start(ctx, name, start)
	end(span, r.Error())
	return r
}

func (t traced) DoMultiCache(ctx context.Context, multi ...rueidis.CacheableTTL) []rueidis.RedisResult {
	start := time.Now()
	rs := t.Client.DoMultiCache(ctx, multi...)
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return rs
	}
	misses := 0
	var err error
	for _, r := range rs {
		if !r.IsCacheHit() {
			misses++
		}
		if e := r.Error(); e != nil && !rueidis.IsRedisNil(e) && err == nil {
			err = e
		}
	}
	if misses > 0 {
		_, span := t.start(ctx, "pipeline", start, semconv.DBOperationBatchSize(misses))
		end(span, err)
	}
	return rs
}

// commandName is the command of a built command: its first word, or the
// first two for commands with subcommands the way Redis names them
// (CLIENT TRACKING, SCRIPT LOAD).
func commandName(words []string) string {
	if len(words) == 0 {
		return "redis"
	}
	name := strings.ToUpper(words[0])
	switch name {
	case "CLIENT", "SCRIPT", "CONFIG", "FUNCTION", "OBJECT", "MEMORY", "CLUSTER":
		if len(words) > 1 {
			return name + " " + strings.ToUpper(words[1])
		}
	}
	return name
}
