package product

import (
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
	c.invalidate()
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

	off := newReadCache(0, 10)
	off.put("a", 1, 0, now)
	if _, _, ok := off.get("a", now); ok {
		t.Error("a cache with TTL 0 returned a hit")
	}
}
