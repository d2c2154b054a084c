package product

import (
	"sync"
	"time"
)

// readCache keeps recent GetProduct and ListProducts answers. Any write by
// this service empties it, and a generation number makes sure a read that
// raced a write never stores what it read before the write. Writes made by
// another replica become visible when entries expire (the TTL), so the TTL is
// the staleness bound across replicas; within one process reads see writes
// at once. Authoritative checks (stock during checkout) never read from here.
type readCache struct {
	ttl time.Duration
	max int

	mu    sync.RWMutex
	gen   uint64
	items map[string]cacheEntry
}

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
	if len(c.items) >= c.max {
		clear(c.items) // rare: the catalog's hot set is far smaller
	}
	c.items[key] = cacheEntry{value: value, expires: now.Add(c.ttl)}
}

// invalidate forgets everything; called after every write.
func (c *readCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.items)
}
