// Package ratelimit gives the edge token buckets: one bucket per key (a
// route class plus the client's user id or IP), Burst tokens refilled at Rate
// per second, a request taking n tokens when the bucket has them.
//
// Two backends pass the same contract: Memory, in-process, for `emporium dev`
// and tests; Redis, one atomic Lua script per Take, for several edge replicas
// sharing their buckets. Guarded wraps either with a failure policy so a
// broken backend never turns into a 500, and Headers/Refuse write the HTTP
// side (IETF RateLimit-* fields, 429 with a Connect error body).
//
// A bucket is named by its key only: callers put the route class in the key
// ("login:203.0.113.7"), so two classes never share a bucket.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Limit is a token bucket: Burst tokens, refilled at Rate per second.
type Limit struct {
	Rate  float64 // tokens per second, > 0
	Burst int     // bucket size, ≥ 1
}

// Decision is the outcome of one Take.
type Decision struct {
	Allowed bool
	// Limit is the bucket's Burst, for RateLimit-Limit.
	Limit int
	// Remaining is the number of whole tokens left after this request; -1
	// means unknown (Guarded, when the backend failed).
	Remaining int
	// Reset is the time until the bucket is full again (RateLimit-Reset).
	Reset time.Duration
	// RetryAfter is, when refused, the time until the bucket holds the n
	// tokens asked for (one token for n = 1); zero when allowed.
	RetryAfter time.Duration
}

// Limiter takes tokens from named buckets.
type Limiter interface {
	// Take removes n tokens from the bucket named key under limit l, if it
	// has them. A bucket never seen (or idle long enough to refill) is full.
	// Invalid l or n give an error wrapping ErrInvalid.
	Take(ctx context.Context, key string, l Limit, n int) (Decision, error)
}

// ErrInvalid is wrapped by the errors for invalid limits or token counts.
var ErrInvalid = errors.New("ratelimit: invalid limit")

// Validate reports whether l is a usable limit: Rate finite and > 0, Burst ≥ 1.
func (l Limit) Validate() error {
	if !(l.Rate > 0) || math.IsInf(l.Rate, 0) {
		return fmt.Errorf("%w: rate %v, want a finite number > 0", ErrInvalid, l.Rate)
	}
	if l.Burst < 1 {
		return fmt.Errorf("%w: burst %d, want ≥ 1", ErrInvalid, l.Burst)
	}
	return nil
}

func check(l Limit, n int) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if n < 1 || n > l.Burst {
		return fmt.Errorf("%w: taking %d tokens from a bucket of %d, want 1 to %d", ErrInvalid, n, l.Burst, l.Burst)
	}
	return nil
}

// epsilon absorbs float rounding: a bucket 1e-9 short of a token has it.
// The Lua script uses the same value.
const epsilon = 1e-9

// bucketMath is the token-bucket step shared by the Memory backend and
// mirrored line by line in tokenbucket.lua. tokens is the stored level,
// elapsed the nanoseconds since it was stored (≤ 0 when the clock did not
// advance). It returns the new level and the decision; the caller stores
// the new level only when the decision is allowed.
func bucketMath(tokens float64, elapsed int64, l Limit, n int) (float64, Decision) {
	burst := float64(l.Burst)
	if elapsed > 0 {
		tokens += float64(elapsed) * l.Rate / 1e9
	}
	tokens = min(tokens, burst)
	d := Decision{Limit: l.Burst}
	if tokens+epsilon >= float64(n) {
		d.Allowed = true
		tokens = max(0, tokens-float64(n))
	} else {
		d.RetryAfter = nanos((float64(n) - tokens) * 1e9 / l.Rate)
	}
	d.Remaining = int(math.Floor(tokens + epsilon))
	d.Reset = nanos((burst - tokens) * 1e9 / l.Rate)
	return tokens, d
}

// nanos rounds x nanoseconds up to a Duration, saturating instead of
// overflowing for absurdly slow rates.
func nanos(x float64) time.Duration {
	if x >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(math.Ceil(x))
}
