package product

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadCache(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	c := newReadCache(2*time.Second, 3)

	_, gen, ok := c.get("a", now)
	if ok {
		t.Fatal("hit on an empty cache")
	}
	c.put("a", 1, gen, now)
	if v, _, ok := c.get("a", now.Add(time.Second)); !ok || v != 1 {
		t.Fatalf("get after put = %v, %v; want 1, true", v, ok)
	}
	if _, _, ok := c.get("a", now.Add(2*time.Second)); ok {
		t.Error("entry outlived its TTL")
	}

	// A read that started before a write must not store what it read.
	_, stale, _ := c.get("b", now)
	c.invalidate(context.Background())
	c.put("b", "old", stale, now)
	if _, _, ok := c.get("b", now); ok {
		t.Error("a value read before a write was stored after it")
	}
	_, gen, _ = c.get("b", now)
	c.put("b", "new", gen, now)
	if v, _, _ := c.get("b", now); v != "new" {
		t.Errorf("get = %v, want new", v)
	}

	// Bounded: over max, the cache starts again rather than grow.
	for _, k := range []string{"c", "d", "e"} {
		c.put(k, k, gen, now)
	}
	if n := len(c.items); n > 3 {
		t.Errorf("cache holds %d entries, max 3", n)
	}

	// Expired entries do not stay until the cache is full: a put a TTL
	// after the last sweep removes them, and keeps the live ones.
	ttl := newReadCache(2*time.Second, 100)
	_, g, _ := ttl.get("old", now)
	ttl.put("old", 1, g, now)
	ttl.put("live", 2, g, now.Add(1500*time.Millisecond))
	ttl.put("new", 3, g, now.Add(2*time.Second))
	if _, kept := ttl.items["old"]; kept {
		t.Error("an expired entry was kept past the next sweep")
	}
	if v, _, ok := ttl.get("live", now.Add(2*time.Second)); !ok || v != 2 {
		t.Errorf("a live entry was swept: %v, %v", v, ok)
	}

	off := newReadCache(0, 10)
	off.put("a", 1, 0, now)
	if _, _, ok := off.get("a", now); ok {
		t.Error("a cache with TTL 0 returned a hit")
	}
}

func TestReadCacheLoadCoalescesAndRespectsWrites(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	c := newReadCache(time.Minute, 100)
	var calls atomic.Int32
	release := make(chan struct{})
	slow := func(context.Context) (any, error) {
		calls.Add(1)
		<-release
		return "v1", nil
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if v, err := c.load(context.Background(), "k", now, slow); err != nil || v != "v1" {
				t.Errorf("load = %v, %v; want v1", v, err)
			}
		})
	}
	// Let every caller reach the flight before it ends.
	for c.loading.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("16 concurrent misses called the loader %d times, want 1", n)
	}

	// A caller that goes away stops waiting; the load goes on for the rest.
	c.invalidate(context.Background())
	block := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.load(ctx, "k", now, func(context.Context) (any, error) { <-block; return "v2", nil })
		done <- err
	}()
	for c.loading.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	other := make(chan any, 1)
	go func() {
		v, _ := c.load(context.Background(), "k", now, func(context.Context) (any, error) { return "not shared", nil })
		other <- v
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled caller got %v, want context.Canceled", err)
	}
	close(block)
	if v := <-other; v != "v2" {
		t.Errorf("the other caller got %v, want the shared load's v2", v)
	}

	// A read that starts after a write does not join a load started before it.
	c.invalidate(context.Background())
	before := make(chan struct{})
	go func() {
		_, _ = c.load(context.Background(), "k", now, func(context.Context) (any, error) { <-before; return "old", nil })
	}()
	for c.loading.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	c.invalidate(context.Background()) // a write
	v, err := c.load(context.Background(), "k", now, func(context.Context) (any, error) { return "new", nil })
	close(before)
	if err != nil || v != "new" {
		t.Errorf("load after a write = %v, %v; want new", v, err)
	}
}
