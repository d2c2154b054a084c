package jobs

import (
	"context"
	"time"
)

// Every calls f every interval, in a goroutine of its own, until ctx ends
// or stop is called; stop cancels the context f runs with and waits for f
// to return. For a service's own timers (a sweep, a poll that queues a job)
// that every replica runs and that must not keep a parked client awake.
func Every(ctx context.Context, interval time.Duration, f func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				f(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }
}
