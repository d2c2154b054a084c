package elastic

import (
	"sync"
	"sync/atomic"
	"time"
)

// retrySetup runs a setup until it has succeeded once, trying it at most
// once a second (calls meanwhile get the last attempt's error), so that a
// process started while the cluster was down works once it is back.
type retrySetup struct {
	ready   atomic.Bool
	mu      sync.Mutex
	lastTry time.Time
	err     error
}

// do returns nil once setup has succeeded, else runs it (or returns the
// error of an attempt made less than a second ago).
func (r *retrySetup) do(setup func() error) error {
	if r.ready.Load() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready.Load() {
		return nil
	}
	if !r.lastTry.IsZero() && time.Since(r.lastTry) < time.Second {
		return r.err
	}
	r.lastTry = time.Now()
	if err := setup(); err != nil {
		r.err = err
		return err
	}
	r.ready.Store(true)
	return nil
}
