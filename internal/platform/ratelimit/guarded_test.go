package ratelimit

import (
	"context"
	"errors"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/rueidis"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// failuresCounted reads FailuresMetric's value for policy from reader.
func failuresCounted(t *testing.T, reader sdkmetric.Reader, policy FailurePolicy) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != FailuresMetric {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				t.Fatalf("%s is a %T, want a Sum[int64]", FailuresMetric, m.Data)
			}
			for _, dp := range sum.DataPoints {
				if v, _ := dp.Attributes.Value(attribute.Key("policy")); v.AsString() == policy.String() {
					return dp.Value
				}
			}
		}
	}
	return 0
}

// deadRedis is a rueidis client pointed at a port nobody listens on: Redis down.
func deadRedis(t *testing.T) rueidis.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// ForceSingleClient returns a client even though the first dial fails;
	// each command then fails to connect, as in an outage.
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:       []string{addr},
		ForceSingleClient: true,
		DisableCache:      true,
		Dialer:            net.Dialer{Timeout: time.Second},
	})
	if c == nil {
		t.Fatalf("rueidis.NewClient(%s) = nil, %v", addr, err)
	}
	t.Cleanup(c.Close)
	return c
}

// silentRedis is a rueidis client connected to a TCP server that accepts
// connections and never answers: Redis hanging rather than refusing.
func silentRedis(t *testing.T) rueidis.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read or written
			mu.Unlock()
		}
	}()
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:       []string{ln.Addr().String()},
		ForceSingleClient: true,
		DisableCache:      true,
		Dialer:            net.Dialer{Timeout: 2 * time.Second},
	})
	if c == nil {
		t.Fatalf("rueidis.NewClient = nil, %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return c
}

func TestGuardedBackendDown(t *testing.T) {
	t.Parallel()
	l := Limit{Rate: 10, Burst: 5}
	cases := []struct {
		name   string
		redis  func(t *testing.T) rueidis.Client
		policy FailurePolicy
		want   Decision
	}{
		{"refused/fail-open", deadRedis, FailOpen, Decision{Allowed: true, Limit: 5, Remaining: -1}},
		{"refused/fail-closed", deadRedis, FailClosed, Decision{Allowed: false, Limit: 5, Remaining: -1, RetryAfter: time.Second}},
		{"hanging/fail-open", silentRedis, FailOpen, Decision{Allowed: true, Limit: 5, Remaining: -1}},
		{"hanging/fail-closed", silentRedis, FailClosed, Decision{Allowed: false, Limit: 5, Remaining: -1, RetryAfter: time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			reader := sdkmetric.NewManualReader()
			g := newGuarded(NewRedis(tc.redis(t), testPrefix()), tc.policy, slog.New(slog.NewJSONHandler(&logs, nil)),
				sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
			const takes = 3
			for i := range takes {
				start := time.Now()
				d, err := g.Take(context.Background(), "browse:192.0.2.1", l, 1)
				if took := time.Since(start); took > Timeout+500*time.Millisecond {
					t.Errorf("take %d took %v; Guarded bounds backend calls by %v", i, took, Timeout)
				}
				if err != nil {
					t.Fatalf("take %d: Guarded.Take returned %v; a backend failure must become a decision", i, err)
				}
				if diff := cmp.Diff(tc.want, d); diff != "" {
					t.Errorf("take %d (-want +got):\n%s", i, diff)
				}
				if got := g.Failures(); got != int64(i+1) {
					t.Errorf("after take %d: Failures() = %d, want %d", i, got, i+1)
				}
			}
			// Every failure is counted in the metric, by policy.
			if got := failuresCounted(t, reader, tc.policy); got != takes {
				t.Errorf("%s = %d, want %d", FailuresMetric, got, takes)
			}
			// Failure logs are throttled: one line for the burst of failures.
			out := logs.String()
			if n := strings.Count(out, `"msg":"rate limiter backend failed"`); n != 1 {
				t.Errorf("%d failure log lines, want 1 (throttled):\n%s", n, out)
			}
			if !strings.Contains(out, `"policy":"`+tc.policy.String()+`"`) {
				t.Errorf("log lacks the policy:\n%s", out)
			}

			// Invalid limits stay errors and are not backend failures.
			if _, err := g.Take(context.Background(), "k", Limit{Rate: 1, Burst: 1}, 2); !errors.Is(err, ErrInvalid) {
				t.Errorf("Take with n > Burst: err = %v, want ErrInvalid", err)
			}
			if got := g.Failures(); got != takes {
				t.Errorf("Failures() = %d after an invalid take, want %d", got, takes)
			}
		})
	}
}

func TestGuardedHealthyBackend(t *testing.T) {
	t.Parallel()
	for _, policy := range []FailurePolicy{FailOpen, FailClosed} {
		t.Run(policy.String(), func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			g := NewGuarded(NewMemory(clock.Now), policy, slog.New(slog.DiscardHandler))
			l := Limit{Rate: 1, Burst: 1}
			got := make([]Decision, 0, 2)
			for range 2 {
				d, err := g.Take(context.Background(), "k", l, 1)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, d)
			}
			want := []Decision{allow(1, 0, time.Second), refuse(1, 0, time.Second, time.Second)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decisions (-want +got):\n%s", diff)
			}
			if g.Failures() != 0 {
				t.Errorf("Failures() = %d, want 0", g.Failures())
			}
		})
	}
}

// syncBuffer collects output from concurrent writers.
type syncBuffer = testkit.SyncBuffer
