package ratelimit

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestRedisBucketStorage checks what the script leaves in Redis: a hash with
// the tokens and the Redis time of the last refill, expiring when the bucket
// would be full again, so idle buckets vanish.
func TestRedisBucketStorage(t *testing.T) {
	t.Parallel()
	c := newRedisClient(t)
	ctx := context.Background()

	cases := []struct {
		name    string
		limit   Limit
		takes   int
		wantTTL time.Duration // time to refill fully after the takes
	}{
		{"one of five at 2/s", Limit{Rate: 2, Burst: 5}, 1, 500 * time.Millisecond},
		{"all five at 2/s", Limit{Rate: 2, Burst: 5}, 5, 2500 * time.Millisecond},
		{"one of one at 20/s", Limit{Rate: 20, Burst: 1}, 1, 50 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix := testPrefix()
			r := NewRedis(c, prefix)
			for range tc.takes {
				if _, err := r.Take(ctx, "k", tc.limit, 1); err != nil {
					t.Fatal(err)
				}
			}
			key := prefix + "k"
			pttl, err := c.Do(ctx, c.B().Pttl().Key(key).Build()).AsInt64()
			if err != nil {
				t.Fatal(err)
			}
			if got := time.Duration(pttl) * time.Millisecond; got > tc.wantTTL || got < tc.wantTTL-100*time.Millisecond {
				t.Errorf("PTTL = %v, want about %v (time to refill fully)", got, tc.wantTTL)
			}

			h, err := c.Do(ctx, c.B().Hgetall().Key(key).Build()).AsStrMap()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := strconv.ParseFloat(h["t"], 64); err != nil {
				t.Errorf("field t = %q, want a float: %v", h["t"], err)
			}
			ts, err := strconv.ParseInt(h["ts"], 10, 64)
			if err != nil {
				t.Fatalf("field ts = %q, want µs: %v", h["ts"], err)
			}
			now, err := c.Do(ctx, c.B().Time().Build()).AsIntSlice()
			if err != nil {
				t.Fatal(err)
			}
			redisNow := time.UnixMicro(now[0]*1_000_000 + now[1])
			if d := redisNow.Sub(time.UnixMicro(ts)); d < 0 || d > time.Second {
				t.Errorf("ts is %v before Redis TIME, want the Redis time of the take", d)
			}

			time.Sleep(tc.wantTTL + 50*time.Millisecond)
			n, err := c.Do(ctx, c.B().Exists().Key(key).Build()).AsInt64()
			if err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("bucket key still exists after refilling fully")
			}
		})
	}
}
