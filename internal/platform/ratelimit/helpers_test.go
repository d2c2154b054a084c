package ratelimit

import (
	"crypto/rand"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
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
type fakeClock = clocktest.Clock

func newFakeClock() *fakeClock {
	return clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}
