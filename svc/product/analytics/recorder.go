package analytics

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// RecorderConfig tunes a Recorder; zero values take the defaults.
type RecorderConfig struct {
	// Buffer is how many events wait to be written at most (default
	// 10000); past it, Record drops events and counts them.
	Buffer int
	// Batch is how many events one write carries at most (default 500).
	Batch int
	// Interval is how long an event waits for a batch to fill (default 1 s).
	Interval time.Duration
	// Retention, when positive, deletes what is older than this, once at
	// Start and then every RetentionEvery (default 1 h).
	Retention      time.Duration
	RetentionEvery time.Duration
	Now            func() time.Time
	Log            *slog.Logger
}

// Recorder buffers events and writes them to a Store in batches from its
// own goroutine: Record never blocks, never fails and never waits for the
// store; a full buffer drops the event and counts it (Dropped). A failed
// write is logged and its events are lost, counted in Failed: analytics
// are not worth holding up the shop for.
type Recorder struct {
	store   Store
	cfg     RecorderConfig
	ch      chan Event
	dropped atomic.Int64
	failed  atomic.Int64
	written atomic.Int64

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	flushes chan chan struct{}
}

// NewRecorder returns a recorder writing to store; Start it to write.
func NewRecorder(store Store, cfg RecorderConfig) *Recorder {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 10000
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.RetentionEvery <= 0 {
		cfg.RetentionEvery = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{store: store, cfg: cfg, ch: make(chan Event, cfg.Buffer), flushes: make(chan chan struct{})}
}

// Record queues e for writing, or drops it when the buffer is full.
func (r *Recorder) Record(e Event) {
	select {
	case r.ch <- e:
	default:
		if n := r.dropped.Add(1); n&(n-1) == 0 { // log at 1, 2, 4, 8 … drops
			r.cfg.Log.Warn("search analytics buffer full: events dropped", "dropped", n)
		}
	}
}

// Dropped is how many events a full buffer dropped.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Failed is how many events were lost to failed writes.
func (r *Recorder) Failed() int64 { return r.failed.Load() }

// Written is how many events were written.
func (r *Recorder) Written() int64 { return r.written.Load() }

// Start writes queued events until Stop. Starting twice is a no-op.
func (r *Recorder) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done != nil {
		return
	}
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.done = make(chan struct{})
	go r.run(ctx)
}

// Flush waits until every event queued before it is written (or failed).
// Without Start it returns at once.
func (r *Recorder) Flush(ctx context.Context) {
	r.mu.Lock()
	running := r.done != nil
	r.mu.Unlock()
	if !running {
		return
	}
	ack := make(chan struct{})
	select {
	case r.flushes <- ack:
		select {
		case <-ack:
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
}

// Stop writes what is queued (until ctx ends) and stops.
func (r *Recorder) Stop(ctx context.Context) {
	r.Flush(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil {
		return
	}
	r.cancel()
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	r.done = nil
}

func (r *Recorder) run(ctx context.Context) {
	defer close(r.done)
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	var retain <-chan time.Time
	if r.cfg.Retention > 0 {
		r.prune(ctx)
		t := time.NewTicker(r.cfg.RetentionEvery)
		defer t.Stop()
		retain = t.C
	}
	batch := make([]Event, 0, r.cfg.Batch)
	write := func() {
		if len(batch) == 0 {
			return
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := r.store.Record(wctx, batch); err != nil {
			r.failed.Add(int64(len(batch)))
			r.cfg.Log.Warn("search analytics: write failed, events lost", "events", len(batch), "err", err)
		} else {
			r.written.Add(int64(len(batch)))
		}
		batch = batch[:0]
	}
	// drain moves what is queued now into batches.
	drain := func() {
		for {
			select {
			case e := <-r.ch:
				batch = append(batch, e)
				if len(batch) == cap(batch) {
					write()
				}
			default:
				return
			}
		}
	}
	for {
		select {
		case e := <-r.ch:
			batch = append(batch, e)
			if len(batch) == cap(batch) {
				write()
			}
		case <-tick.C:
			write()
		case ack := <-r.flushes:
			drain()
			write()
			close(ack)
		case <-retain:
			r.prune(ctx)
		case <-ctx.Done():
			drain()
			write()
			return
		}
	}
}

func (r *Recorder) prune(ctx context.Context) {
	if err := r.store.DeleteBefore(ctx, r.cfg.Now().Add(-r.cfg.Retention)); err != nil {
		r.cfg.Log.Warn("search analytics: retention delete failed", "err", err)
	}
}
