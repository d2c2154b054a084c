package kv_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
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

// While Redis is down, a read fails within a fraction of a second, not at
// the caller's deadline (rueidis' default retries reads until then): the
// checks on a request's path fall back to their policy at once.
func TestReadsFailFastWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	redistest.Client(t) // skips (or fails in CI) without Redis
	srv := startPrivateRedis(t)
	c, err := kv.Open(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	key := "kv-test-down"
	if err := c.Do(context.Background(), c.B().Set().Key(key).Value("v").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	srv.kill()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, read := range map[string]func() error{
		"GET":     func() error { return c.Do(ctx, c.B().Get().Key(key).Build()).Error() },
		"DoCache": func() error { return c.DoCache(ctx, c.B().Get().Key(key+"-other").Cache(), time.Minute).Error() },
		"DoMulti": func() error { return c.DoMulti(ctx, c.B().Get().Key(key).Build())[0].Error() },
	} {
		start := time.Now()
		err := read()
		took := time.Since(start)
		if err == nil || rueidis.IsRedisNil(err) {
			t.Errorf("%s with Redis down: %v, want a connection error", name, err)
		}
		if took > 2*time.Second {
			t.Errorf("%s with Redis down took %s: reads must fail fast, not wait for the caller's deadline", name, took.Round(time.Millisecond))
		}
	}
}

type privateRedis struct {
	url string
	cmd *exec.Cmd
}

// startPrivateRedis runs a redis-server of the test's own on a free
// loopback port, to kill.
func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skipf("redis-server not installed: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &privateRedis{url: fmt.Sprintf("redis://127.0.0.1:%d/0", port), cmd: cmd}
	t.Cleanup(r.kill)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return r
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not listen within 10 s")
		}
	}
}

func (r *privateRedis) kill() {
	if r.cmd.Process != nil && r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}
