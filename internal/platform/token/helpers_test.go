package token

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"github.com/emporiumhq/emporium/internal/platform/clocktest"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/emporiumhq/emporium/internal/platform/redistest"
)

const (
	testIssuer   = "https://edge.test"
	testAudience = "emporium"
)

// clock is a settable clock for signers, verifiers and refreshers.
type clock = clocktest.Clock

func newClock() *clock { return clocktest.New(time.Now()) }

func mustKey(t testing.TB) *Key {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustKeySet(t testing.TB) *KeySet {
	t.Helper()
	ks, err := NewKeySet(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func mustStaticVerifier(t testing.TB, ks *KeySet, opts ...VerifierOption) *Verifier {
	t.Helper()
	v, err := NewStaticVerifier(ks, testIssuer, testAudience, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustSign(t testing.TB, s *Signer, sub string, roles []string, sid string) string {
	t.Helper()
	tok, _, err := s.Sign(sub, roles, sid)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// testRedis returns the shared client of the test Redis
// (EMPORIUM_TEST_REDIS_URL, default redis://127.0.0.1:6379/0), skipping the
// test when it does not answer, or failing it when CI is set.
func testRedis(t testing.TB) rueidis.Client {
	t.Helper()
	return redistest.Client(t)
}

// testPrefix returns a random key prefix whose keys are deleted when the
// test ends.
func testPrefix(t testing.TB, c rueidis.Client) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "test:token:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		for _, k := range scanKeys(t, c, prefix) {
			c.Do(ctx, c.B().Del().Key(k).Build())
		}
	})
	return prefix
}

func scanKeys(t testing.TB, c rueidis.Client, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Fatalf("SCAN: %v", err)
		}
		keys = append(keys, e.Elements...)
		if e.Cursor == 0 {
			return keys
		}
		cursor = e.Cursor
	}
}
