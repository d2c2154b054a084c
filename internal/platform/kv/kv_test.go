package kv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/emporiumhq/emporium/internal/platform/kv"
	"github.com/emporiumhq/emporium/internal/platform/redistest"
)

func open(t *testing.T) rueidis.Client {
	t.Helper()
	redistest.Client(t) // skips (or fails in CI) without Redis
	u := redistest.URL()
	c, err := kv.Open(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Commands inside a trace are its children, named after the command,
// without keys or values; a cached read served from memory makes none, and
// nothing outside a trace does.
func TestTracedCommands(t *testing.T) {
	t.Parallel()
	plain := open(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c := kv.Traced(plain, tp)
	key := redistest.Prefix(t) + "session-secret"

	if err := c.Do(context.Background(), c.B().Set().Key(key).Value("v").Ex(time.Minute).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("a command outside any trace made %d spans", n)
	}
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	for range 3 { // one miss, then answers from local memory
		if v, err := c.DoCache(ctx, c.B().Get().Key(key).Cache(), time.Minute).ToString(); err != nil || v != "v" {
			t.Fatalf("GET: %q, %v", v, err)
		}
	}
	if err := c.Do(ctx, c.B().Del().Key(key).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	parent.End()

	var got []string
	for _, s := range rec.Ended() {
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			continue
		}
		got = append(got, s.Name())
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.String(), "session-secret") {
				t.Errorf("span %s carries the key in %s", s.Name(), a.Key)
			}
		}
	}
	if strings.Join(got, " ") != "GET DEL" {
		t.Errorf("spans under the request: %v, want [GET DEL] (one GET: the others came from local memory)", got)
	}
}
