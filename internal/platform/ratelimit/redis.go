package ratelimit

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

//go:embed tokenbucket.lua
var tokenBucketLua string

// Redis is the Limiter shared by edge replicas: each Take is one EVALSHA of
// tokenbucket.lua (EVAL once when Redis lacks the script), atomic on the
// server. Bucket keys are prefix+key and expire once the bucket would be
// full again. Safe for concurrent use.
type Redis struct {
	client rueidis.Client
	prefix string
	script *rueidis.Lua
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter keeping its buckets in Redis under prefix
// (e.g. "emporium:rl:").
func NewRedis(client rueidis.Client, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix, script: rueidis.NewLuaScript(tokenBucketLua)}
}

// Take implements Limiter.
func (r *Redis) Take(ctx context.Context, key string, l Limit, n int) (Decision, error) {
	if err := check(l, n); err != nil {
		return Decision{}, err
	}
	res, err := r.script.Exec(ctx, r.client,
		[]string{r.prefix + key},
		[]string{strconv.FormatFloat(l.Rate, 'g', -1, 64), strconv.Itoa(l.Burst), strconv.Itoa(n)},
	).AsIntSlice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis token bucket: %w", err)
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("ratelimit: redis token bucket: got %d values, want 4", len(res))
	}
	return Decision{
		Allowed:    res[0] == 1,
		Limit:      l.Burst,
		Remaining:  int(res[1]),
		Reset:      time.Duration(res[2]) * time.Microsecond,
		RetryAfter: time.Duration(res[3]) * time.Microsecond,
	}, nil
}
