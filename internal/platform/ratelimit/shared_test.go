package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hammer has goroutinesEach goroutines per limiter take one token at a time
// from the same key until dur has passed. It reports how many takes were
// allowed and two windows of real time: outer, from before the first take
// began to after the last one returned, which contains every take; inner,
// up to when the last take began, which a starved process (descheduled at
// the end) does not stretch.
func hammer(t *testing.T, limiters []Limiter, goroutinesEach int, key string, l Limit, dur time.Duration) (allowed int64, outer, inner time.Duration) {
	t.Helper()
	var (
		mu        sync.Mutex
		lastStart time.Time
		lastEnd   time.Time
		n, takes  atomic.Int64
		failed    atomic.Int64
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for _, lim := range limiters {
		for range goroutinesEach {
			wg.Go(func() {
				var began, ended time.Time
				for now := time.Now(); now.Before(deadline); now = time.Now() {
					began = now
					d, err := lim.Take(context.Background(), key, l, 1)
					ended = time.Now()
					takes.Add(1)
					if err != nil {
						if failed.Add(1) == 1 {
							t.Errorf("Take: %v", err)
						}
						return
					}
					if d.Allowed {
						n.Add(1)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if ended.After(lastEnd) {
					lastEnd = ended
				}
				if began.After(lastStart) {
					lastStart = began
				}
			})
		}
	}
	wg.Wait()
	outer, inner = lastEnd.Sub(start), lastStart.Sub(start)
	t.Logf("%d takes from %d goroutines; windows %v / %v", takes.Load(), len(limiters)*goroutinesEach, outer, inner)
	return n.Load(), outer, inner
}

// checkShared asserts that allowed is what one bucket allows: no more than
// Burst + Rate·outer (+5 %), and not far below Burst + Rate·inner (≥ 90 %).
func checkShared(t *testing.T, allowed int64, outer, inner time.Duration, l Limit) {
	t.Helper()
	most := float64(l.Burst) + l.Rate*outer.Seconds()
	least := float64(l.Burst) + l.Rate*inner.Seconds()
	t.Logf("allowed %d; one bucket allows %.1f to %.1f", allowed, least, most)
	if float64(allowed) > most*1.05 {
		t.Errorf("allowed %d, more than Burst + Rate×elapsed = %.1f (+5 %%): the bucket is not shared atomically", allowed, most)
	}
	if float64(allowed) < least*0.90 {
		t.Errorf("allowed %d, less than 90 %% of Burst + Rate×elapsed = %.1f", allowed, least)
	}
}

var sharedLimit = Limit{Rate: 50, Burst: 20}

// TestSharedBucketRedis plays two edge replicas, each with its own rueidis
// client and 16 goroutines, hammering one bucket.
func TestSharedBucketRedis(t *testing.T) {
	t.Parallel()
	prefix := testPrefix()
	replicas := []Limiter{
		NewRedis(newRedisClient(t), prefix),
		NewRedis(newRedisClient(t), prefix),
	}
	allowed, outer, inner := hammer(t, replicas, 16, "login:198.51.100.4", sharedLimit, 1500*time.Millisecond)
	checkShared(t, allowed, outer, inner, sharedLimit)
}

func TestSharedBucketMemory(t *testing.T) {
	t.Parallel()
	m := NewMemory(nil)
	allowed, outer, inner := hammer(t, []Limiter{m}, 32, "login:198.51.100.4", sharedLimit, 1500*time.Millisecond)
	checkShared(t, allowed, outer, inner, sharedLimit)
}
