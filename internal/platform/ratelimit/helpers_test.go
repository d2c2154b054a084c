package ratelimit

import (
	"context"
	"crypto/rand"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

const defaultRedisURL = "redis://127.0.0.1:6379/0"

// newRedisClient connects to EMPORIUM_TEST_REDIS_URL. Without Redis the test
// is skipped, except under CI, where it fails.
func newRedisClient(tb testing.TB) rueidis.Client {
	tb.Helper()
	url := os.Getenv("EMPORIUM_TEST_REDIS_URL")
	if url == "" {
		url = defaultRedisURL
	}
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		tb.Fatalf("EMPORIUM_TEST_REDIS_URL %q: %v", url, err)
	}
	opt.Dialer.Timeout = 2 * time.Second
	c, err := rueidis.NewClient(opt)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = c.Do(ctx, c.B().Ping().Build()).Error()
		cancel()
		if err != nil {
			c.Close()
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("redis at %s: %v (CI must run the Redis tests)", url, err)
		}
		tb.Skipf("redis at %s unreachable: %v", url, err)
	}
	tb.Cleanup(c.Close)
	return c
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
