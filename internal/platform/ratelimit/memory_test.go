package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMemorySweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := Limit{Rate: 10, Burst: 5} // one token refills in 100 ms
	take := func(t *testing.T, m *Memory, key string) Decision {
		t.Helper()
		d, err := m.Take(ctx, key, l, 1)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	fill := func(t *testing.T, m *Memory, prefix string, n int) {
		t.Helper()
		for i := range n {
			take(t, m, fmt.Sprintf("%s%d", prefix, i))
		}
	}
	const keys = 10_000

	t.Run("Sweep drops only full buckets", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		m := NewMemory(clock.Now)
		fill(t, m, "idle:", keys)
		for range 5 {
			take(t, m, "hot") // drained: full again only in 500 ms
		}
		if got := m.Len(); got != keys+1 {
			t.Fatalf("Len() = %d, want %d", got, keys+1)
		}
		clock.Advance(99 * time.Millisecond)
		m.Sweep()
		if got := m.Len(); got != keys+1 {
			t.Fatalf("Len() = %d after sweeping before refill, want %d", got, keys+1)
		}
		clock.Advance(1 * time.Millisecond)
		m.Sweep()
		if got := m.Len(); got != 1 {
			t.Fatalf("Len() = %d after the idle buckets refilled, want 1 (the drained one)", got)
		}
		// The drained bucket kept its state: 100 ms gave back 1 of 5 tokens.
		if diff := cmp.Diff(allow(5, 0, 500*time.Millisecond), take(t, m, "hot")); diff != "" {
			t.Errorf("drained bucket after sweep (-want +got):\n%s", diff)
		}
	})

	t.Run("Take sweeps as the clock moves", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		m := NewMemory(clock.Now)
		fill(t, m, "old:", keys)
		clock.Advance(sweepEvery)
		// New traffic lands in every shard and sweeps it.
		const fresh = 5_000
		fill(t, m, "new:", fresh)
		if got := m.Len(); got != fresh {
			t.Errorf("Len() = %d, want %d (only the new keys)", got, fresh)
		}
	})
}

func TestMemoryClockGoesBack(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	m := NewMemory(clock.Now)
	l := Limit{Rate: 1, Burst: 1}
	var got []Decision
	for _, step := range []time.Duration{0, -time.Hour, time.Hour, time.Second} {
		clock.Advance(step)
		d, err := m.Take(context.Background(), "k", l, 1)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d)
	}
	want := []Decision{
		allow(1, 0, time.Second),
		refuse(1, 0, time.Second, time.Second), // no refill while the clock runs back
		refuse(1, 0, time.Second, time.Second), // back where it was: still nothing
		allow(1, 0, time.Second),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
}
