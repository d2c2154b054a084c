package product

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// readCache keeps recent GetProduct and ListProducts answers. Any write by
// this service empties it, and a generation number makes sure a read that
// raced a write never stores what it read before the write. Without Redis,
// writes made by another replica become visible when entries expire (the
// TTL), so the TTL is the staleness bound across replicas; with Redis
// (SharedCache) every replica empties its cache the moment any replica
// writes. Within one process reads see writes at once. Authoritative checks (stock during checkout) never read from here.
type readCache struct {
	ttl time.Duration
	max int

	mu    sync.RWMutex
	gen   uint64
	items map[string]cacheEntry
	swept time.Time // when put last removed the expired entries

	// loads coalesces concurrent misses of one key: when an entry expires
	// under load, one caller reads the database and the others wait for
	// its answer instead of each sending the same query.
	loads singleflight.Group
	// loading counts the loads under way.
	loading atomic.Int32
	// shared, when set, carries this replica's writes to the others and
	// theirs to this one (see SharedCache).
	shared *SharedCache
}

// loadTimeout bounds a load shared by several callers: it runs without its
// first caller's cancellation, so that one client going away does not fail
// the others waiting for it.
const loadTimeout = 10 * time.Second

type cacheEntry struct {
	value   any
	expires time.Time
}

func newReadCache(ttl time.Duration, max int) *readCache {
	return &readCache{ttl: ttl, max: max, items: make(map[string]cacheEntry)}
}

// get returns the cached value of key, and the generation to pass to put
// when it must be loaded.
func (c *readCache) get(key string, now time.Time) (value any, gen uint64, ok bool) {
	if c.ttl <= 0 {
		return nil, 0, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.items[key]
	if ok && now.Before(e.expires) {
		return e.value, c.gen, true
	}
	return nil, c.gen, false
}

// put stores value unless a write happened since gen was read.
func (c *readCache) put(key string, value any, gen uint64, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	// Expired entries go once a TTL, so the cache holds about what the
	// last TTL read, not every answer since it was last full: each holds
	// its answer (and the memo its encoding) in memory.
	if now.Sub(c.swept) >= c.ttl {
		c.swept = now
		for k, e := range c.items {
			if !now.Before(e.expires) {
				delete(c.items, k)
			}
		}
	}
	if len(c.items) >= c.max {
		clear(c.items) // rare: the catalog's hot set is far smaller
	}
	c.items[key] = cacheEntry{value: value, expires: now.Add(c.ttl)}
}

// invalidate forgets everything and, with a shared cache, tells the other
// replicas to; called after every write.
func (c *readCache) invalidate(ctx context.Context) {
	c.drop()
	if c.shared != nil {
		c.shared.publish(ctx)
	}
}

// drop forgets everything in this replica.
func (c *readCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.items)
}

// load returns the cached value of key, or loads it with fn and caches it.
// Concurrent misses of one key share one call of fn; each caller still
// stops waiting when its own ctx ends. A load shared across a write is not:
// the flight is keyed by the cache's generation, so a read that starts
// after a write never gets a value loaded before it.
func (c *readCache) load(ctx context.Context, key string, now time.Time, fn func(context.Context) (any, error)) (any, error) {
	if c.ttl <= 0 {
		return fn(ctx)
	}
	v, gen, ok := c.get(key, now)
	if ok {
		return v, nil
	}
	ch := c.loads.DoChan(strconv.FormatUint(gen, 10)+"|"+key, func() (any, error) {
		// A flight that ended between our miss and this call has filled
		// the entry: take it instead of loading again.
		if v, g, ok := c.get(key, now); ok && g == gen {
			return v, nil
		}
		c.loading.Add(1)
		defer c.loading.Add(-1)
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		v, err := fn(lctx)
		if err == nil {
			c.put(key, v, gen, now)
		}
		return v, err
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
