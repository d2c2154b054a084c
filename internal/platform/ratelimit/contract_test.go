package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// backend is one Limiter under test with its notion of time.
type backend struct {
	l Limiter
	// sleep lets d pass for the limiter: a fake clock's Advance, or
	// time.Sleep for a backend on the real clock (Redis).
	sleep func(d time.Duration)
	// realClock says the limiter runs on real time: the time a scenario
	// really took beyond its sleeps (calls, scheduling, oversleeping) refills
	// the bucket a little, so durations in decisions may be short by that
	// much. On a fake clock decisions must be exact.
	realClock bool
}

// step is one Take in a scenario, after sleeping.
type step struct {
	sleep time.Duration
	key   string // "a" when empty
	n     int
	want  Decision
}

func allow(burst, remaining int, reset time.Duration) Decision {
	return Decision{Allowed: true, Limit: burst, Remaining: remaining, Reset: reset}
}

func refuse(burst, remaining int, reset, retry time.Duration) Decision {
	return Decision{Limit: burst, Remaining: remaining, Reset: reset, RetryAfter: retry}
}

const ms = time.Millisecond

// runContract is the behaviour every Limiter must have. Each subtest gets a
// fresh backend from newBackend.
func runContract(t *testing.T, newBackend func(t *testing.T) backend) {
	scenarios := []struct {
		name  string
		limit Limit
		steps []step
	}{
		{
			name:  "fresh bucket allows exactly Burst then refuses",
			limit: Limit{Rate: 2, Burst: 5},
			steps: []step{
				{n: 1, want: allow(5, 4, 500*ms)},
				{n: 1, want: allow(5, 3, 1000*ms)},
				{n: 1, want: allow(5, 2, 1500*ms)},
				{n: 1, want: allow(5, 1, 2000*ms)},
				{n: 1, want: allow(5, 0, 2500*ms)},
				{n: 1, want: refuse(5, 0, 2500*ms, 500*ms)},
				{n: 1, want: refuse(5, 0, 2500*ms, 500*ms)}, // refusals take nothing
			},
		},
		// Rates here leave ≥ 250 ms between a step and the next token, so
		// the real-clock backend passes on a loaded machine too.
		{
			name:  "refills at Rate",
			limit: Limit{Rate: 4, Burst: 2},
			steps: []step{
				{n: 1, want: allow(2, 1, 250*ms)},
				{n: 1, want: allow(2, 0, 500*ms)},
				{n: 1, want: refuse(2, 0, 500*ms, 250*ms)},
				{sleep: 125 * ms, n: 1, want: refuse(2, 0, 375*ms, 125*ms)},
				{sleep: 125 * ms, n: 1, want: allow(2, 0, 500*ms)},
				{n: 1, want: refuse(2, 0, 500*ms, 250*ms)},
			},
		},
		{
			name:  "full again after Reset and never above Burst",
			limit: Limit{Rate: 4, Burst: 3},
			steps: []step{
				{n: 3, want: allow(3, 0, 750*ms)},
				{n: 1, want: refuse(3, 0, 750*ms, 250*ms)},
				{sleep: 750 * ms, n: 3, want: allow(3, 0, 750*ms)},
				{sleep: 1000 * ms, n: 1, want: allow(3, 2, 250*ms)},
			},
		},
		{
			name:  "takes of n tokens",
			limit: Limit{Rate: 1, Burst: 10},
			steps: []step{
				{n: 4, want: allow(10, 6, 4*time.Second)},
				{n: 6, want: allow(10, 0, 10*time.Second)},
				{n: 2, want: refuse(10, 0, 10*time.Second, 2*time.Second)},
				{n: 10, want: refuse(10, 0, 10*time.Second, 10*time.Second)},
				{n: 1, want: refuse(10, 0, 10*time.Second, 1*time.Second)},
			},
		},
		{
			name:  "refused n tokens leaves the rest for smaller takes",
			limit: Limit{Rate: 1, Burst: 4},
			steps: []step{
				{n: 3, want: allow(4, 1, 3*time.Second)},
				{n: 2, want: refuse(4, 1, 3*time.Second, 1*time.Second)},
				{n: 1, want: allow(4, 0, 4*time.Second)},
			},
		},
		{
			name:  "keys are independent",
			limit: Limit{Rate: 1, Burst: 1},
			steps: []step{
				{key: "a", n: 1, want: allow(1, 0, time.Second)},
				{key: "a", n: 1, want: refuse(1, 0, time.Second, time.Second)},
				{key: "b", n: 1, want: allow(1, 0, time.Second)},
				{key: "b", n: 1, want: refuse(1, 0, time.Second, time.Second)},
				{key: "a", n: 1, want: refuse(1, 0, time.Second, time.Second)},
				{key: "login:a", n: 1, want: allow(1, 0, time.Second)},
			},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			start, slept := time.Now(), time.Duration(0)
			for i, st := range sc.steps {
				if st.sleep > 0 {
					b.sleep(st.sleep)
					slept += st.sleep
				}
				key := st.key
				if key == "" {
					key = "a"
				}
				got, err := b.l.Take(context.Background(), key, sc.limit, st.n)
				if err != nil {
					t.Fatalf("step %d: Take(%q, %+v, %d): %v", i, key, sc.limit, st.n, err)
				}
				var tol time.Duration
				if b.realClock {
					// All the time not spent sleeping, up to this take's end.
					tol = time.Since(start) - slept + time.Millisecond
				}
				opt := cmp.Comparer(func(x, y time.Duration) bool { return (x - y).Abs() <= tol })
				if diff := cmp.Diff(st.want, got, opt); diff != "" {
					t.Fatalf("step %d: Take(%q, %+v, %d) (-want +got, durations ±%v):\n%s", i, key, sc.limit, st.n, tol, diff)
				}
			}
		})
	}

	t.Run("invalid limits and counts are errors", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		cases := []struct {
			limit Limit
			n     int
		}{
			{Limit{Rate: 0, Burst: 1}, 1},
			{Limit{Rate: -1, Burst: 1}, 1},
			{Limit{Rate: math.NaN(), Burst: 1}, 1},
			{Limit{Rate: math.Inf(1), Burst: 1}, 1},
			{Limit{Rate: 1, Burst: 0}, 1},
			{Limit{Rate: 1, Burst: -3}, 1},
			{Limit{Rate: 1, Burst: 5}, 0},
			{Limit{Rate: 1, Burst: 5}, -1},
			{Limit{Rate: 1, Burst: 5}, 6},
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%+v n=%d", c.limit, c.n), func(t *testing.T) {
				d, err := b.l.Take(context.Background(), "k", c.limit, c.n)
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Take(%+v, %d) = %+v, %v; want an error wrapping ErrInvalid", c.limit, c.n, d, err)
				}
			})
		}
	})
}

func TestContractMemory(t *testing.T) {
	t.Parallel()
	runContract(t, func(t *testing.T) backend {
		clock := newFakeClock()
		return backend{l: NewMemory(clock.Now), sleep: clock.Advance}
	})
}

func TestContractRedis(t *testing.T) {
	t.Parallel()
	client := newRedisClient(t)
	runContract(t, func(t *testing.T) backend {
		return backend{l: NewRedis(client, testPrefix()), sleep: time.Sleep, realClock: true}
	})
}
