// Package redistest connects tests to the real Redis at
// EMPORIUM_TEST_REDIS_URL (default redis://127.0.0.1:6379/0). When it cannot
// be reached the test is skipped on a laptop but fails when CI is set: CI
// must run every Redis test.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// DefaultURL is used when EMPORIUM_TEST_REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// Client returns a new client, closed when the test ends.
func Client(t testing.TB) rueidis.Client {
	t.Helper()
	u := os.Getenv("EMPORIUM_TEST_REDIS_URL")
	if u == "" {
		u = DefaultURL
	}
	opt, err := rueidis.ParseURL(u)
	if err != nil {
		t.Fatalf("redistest: EMPORIUM_TEST_REDIS_URL: %v", err)
	}
	opt.DisableCache = true
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
			t.Fatalf("redistest: Redis is required in CI but %s does not answer: %v", u, err)
		}
		t.Skipf("redistest: Redis not reachable at %s (set EMPORIUM_TEST_REDIS_URL): %v", u, err)
	}
	t.Cleanup(c.Close)
	return c
}

// Prefix returns a key prefix no other test uses.
func Prefix(t testing.TB) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "emporium-test:" + hex.EncodeToString(b) + ":"
}

// URL is the Redis tests use (EMPORIUM_TEST_REDIS_URL, or DefaultURL).
// Call Client first: it skips the test when that Redis does not answer.
func URL() string {
	if u := os.Getenv("EMPORIUM_TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultURL
}
