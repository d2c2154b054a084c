package ratelimit

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkTake measures one Take per op, on one hot key (serial) and on
// 1024 keys from all procs (parallel). Numbers, not assertions.
func BenchmarkTake(b *testing.B) {
	l := Limit{Rate: 1e6, Burst: 1000}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "browse:10.0.0." + strconv.Itoa(i)
	}
	backends := []struct {
		name string
		new  func(b *testing.B) Limiter
	}{
		{"memory", func(*testing.B) Limiter { return NewMemory(nil) }},
		{"redis", func(b *testing.B) Limiter { return NewRedis(newRedisClient(b), testPrefix()) }},
	}
	for _, be := range backends {
		b.Run(be.name+"/serial", func(b *testing.B) {
			lim := be.new(b)
			ctx := context.Background()
			for b.Loop() {
				if _, err := lim.Take(ctx, keys[0], l, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(be.name+"/parallel", func(b *testing.B) {
			lim := be.new(b)
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				i := int(next.Add(1)) * 101
				for pb.Next() {
					i++
					if _, err := lim.Take(ctx, keys[i%len(keys)], l, 1); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
