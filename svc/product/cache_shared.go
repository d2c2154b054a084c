package product

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/emporiumhq/emporium/internal/platform/kv"
)

// SharedCache makes the read caches of every product replica coherent
// through Redis (--redis-url). Each replica keeps serving catalog reads from
// its own memory, exactly as without Redis, so a cache hit costs what it
// did; what Redis adds is the moment to drop them. All replicas read one
// key, the catalog's generation, through rueidis' client-side caching
// (RESP3 CLIENT TRACKING), so Redis remembers who holds it. A replica that
// changes the catalog empties its own cache and increments the key; Redis
// at once pushes an invalidation of it to every other replica, which
// empties its cache too. A price changed through one replica is therefore
// seen through all of them within a network round trip, not after the
// cache TTL, which remains only as a bound when Redis is unreachable.
type SharedCache struct {
	client rueidis.Client
	key    string
	log    *slog.Logger
	closed chan struct{}
	once   sync.Once

	mu   sync.Mutex
	drop func() // empties this replica's cache; set by New
}

// GenerationKey is the Redis key of the catalog's generation.
const GenerationKey = "emporium:product:catalog-generation"

// OpenSharedCache connects to the Redis at url; every replica of one shop
// must use the same key (GenerationKey). Close it when done.
func OpenSharedCache(ctx context.Context, url, key string, log *slog.Logger) (*SharedCache, error) {
	c := &SharedCache{key: key, log: log, closed: make(chan struct{})}
	client, err := kv.Open(url, func(o *rueidis.ClientOption) { o.OnInvalidations = c.invalidated })
	if err != nil {
		return nil, err
	}
	c.client = client
	if err := c.track(ctx); err != nil {
		client.Close()
		return nil, err
	}
	return c, nil
}

// Close disconnects.
func (c *SharedCache) Close() {
	c.once.Do(func() { close(c.closed) })
	c.client.Close()
}

// attach makes drop the function that empties this replica's cache.
func (c *SharedCache) attach(drop func()) {
	c.mu.Lock()
	c.drop = drop
	c.mu.Unlock()
}

func (c *SharedCache) dropLocal() {
	c.mu.Lock()
	drop := c.drop
	c.mu.Unlock()
	if drop != nil {
		drop()
	}
}

// track reads the generation through the client-side cache, which asks
// Redis to tell this connection when the key changes. Redis tells once per
// read, so every invalidation is followed by another track.
func (c *SharedCache) track(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := c.client.DoCache(ctx, c.client.B().Get().Key(c.key).Cache(), time.Hour).Error()
	if rueidis.IsRedisNil(err) {
		err = nil
	}
	return err
}

// invalidated runs on the connection's reader when Redis says the key
// changed, or with nil when the connection was reset (anything may have
// changed meanwhile). It must not block: the cache is emptied at once, and
// again after tracking is re-armed, so that a change made between the two
// is not missed either (its push may have gone before the key was tracked
// again, but the second emptying follows it).
func (c *SharedCache) invalidated([]rueidis.RedisMessage) {
	c.dropLocal()
	go func() {
		for attempt := 0; ; attempt++ {
			err := c.track(context.Background())
			if err == nil {
				break
			}
			if attempt == 0 {
				c.log.Warn("catalog cache: cannot re-read the generation from Redis; retrying (reads fall back to the cache TTL)", "err", err)
			}
			select {
			case <-time.After(time.Second):
			case <-c.closed:
				return
			}
		}
		c.dropLocal()
	}()
}

// publish tells every replica that the catalog changed.
func (c *SharedCache) publish(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := c.client.Do(ctx, c.client.B().Incr().Key(c.key).Build()).Error(); err != nil {
		c.log.Warn("catalog cache: cannot tell other replicas about a change; they show it after the cache TTL", "err", err)
	}
}
