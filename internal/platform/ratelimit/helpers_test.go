package ratelimit

import (
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/emporiumhq/emporium/internal/platform/redistest"
)

// newRedisClient connects to EMPORIUM_TEST_REDIS_URL. Without Redis the test
// is skipped, except under CI, where it fails.
func newRedisClient(tb testing.TB) rueidis.Client {
	tb.Helper()
	return redistest.Client(tb)
}

// testPrefix is a random key prefix so parallel tests never share buckets.
func testPrefix() string { return "emporium:test:ratelimit:" + rand.Text() + ":" }

// fakeClock is an injectable clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
