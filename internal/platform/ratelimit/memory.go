package ratelimit

import (
	"context"
	"hash/maphash"
	"math"
	"sync"
	"time"
)

const (
	numShards = 64
	// sweepEvery is how often (by the limiter's clock) a shard drops its
	// full buckets, checked on each Take that lands in it.
	sweepEvery = 10 * time.Second
)

// Memory is the in-process Limiter. Buckets live in a sharded map; a bucket
// that has refilled completely is equivalent to no bucket at all, so each
// shard periodically drops those (sweep) and memory stays proportional to
// the keys active within their refill time. Safe for concurrent use.
type Memory struct {
	now    func() time.Time
	base   time.Time // times are nanoseconds since base (monotonic with time.Now)
	seed   maphash.Seed
	shards [numShards]shard
}

type shard struct {
	mu        sync.Mutex
	buckets   map[string]bucket
	nextSweep int64
	_         [40]byte // keep shards on separate cache lines
}

type bucket struct {
	tokens float64
	last   int64 // when tokens was stored
	full   int64 // when the bucket will be full again
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an in-process limiter reading time from now (time.Now
// when nil); tests inject a fake clock.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, base: now(), seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].buckets = make(map[string]bucket)
		m.shards[i].nextSweep = int64(sweepEvery)
	}
	return m
}

// Take implements Limiter.
func (m *Memory) Take(_ context.Context, key string, l Limit, n int) (Decision, error) {
	if err := check(l, n); err != nil {
		return Decision{}, err
	}
	t := int64(m.now().Sub(m.base))
	s := &m.shards[maphash.String(m.seed, key)%numShards]

	s.mu.Lock()
	defer s.mu.Unlock()
	tokens, last, elapsed := float64(l.Burst), t, int64(0)
	if b, ok := s.buckets[key]; ok {
		tokens, last, elapsed = b.tokens, max(b.last, t), t-b.last
	}
	tokens, d := bucketMath(tokens, elapsed, l, n)
	if d.Allowed {
		s.buckets[key] = bucket{tokens: tokens, last: last, full: satAdd(last, int64(d.Reset))}
	}
	if t >= s.nextSweep {
		s.sweep(t)
	}
	return d, nil
}

// Sweep drops every bucket that is full by now. Take already sweeps each
// shard every 10 s of clock time; Sweep is for callers (and tests) that want
// it done at once.
func (m *Memory) Sweep() {
	t := int64(m.now().Sub(m.base))
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.sweep(t)
		s.mu.Unlock()
	}
}

// Len is the number of buckets held in memory.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}

// sweep must be called with s.mu held.
func (s *shard) sweep(t int64) {
	for k, b := range s.buckets {
		if b.full <= t {
			delete(s.buckets, k)
		}
	}
	s.nextSweep = satAdd(t, int64(sweepEvery))
}

func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
