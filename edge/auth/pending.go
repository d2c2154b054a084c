package auth

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// MemoryPending keeps pending logins in this process (emporium dev, or a
// single edge).
type MemoryPending struct {
	mu    sync.Mutex
	items map[string]memoryPending
	now   func() time.Time
}

type memoryPending struct {
	p       Pending
	expires time.Time
}

// NewMemoryPending returns an empty store.
func NewMemoryPending(now func() time.Time) *MemoryPending {
	if now == nil {
		now = time.Now
	}
	return &MemoryPending{items: map[string]memoryPending{}, now: now}
}

// Put implements PendingStore.
func (m *MemoryPending) Put(_ context.Context, state string, p Pending, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, v := range m.items { // pending logins are few; sweep as we go
		if !now.Before(v.expires) {
			delete(m.items, k)
		}
	}
	m.items[state] = memoryPending{p: p, expires: now.Add(ttl)}
	return nil
}

// Take implements PendingStore.
func (m *MemoryPending) Take(_ context.Context, state string) (Pending, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[state]
	delete(m.items, state)
	if !ok || !m.now().Before(v.expires) {
		return Pending{}, false, nil
	}
	return v.p, true, nil
}

// RedisPending keeps pending logins in Redis, so a login started through one
// edge replica can finish through another.
type RedisPending struct {
	client rueidis.Client
	prefix string
}

// NewRedisPending returns a store keeping keys under prefix.
func NewRedisPending(client rueidis.Client, prefix string) *RedisPending {
	return &RedisPending{client: client, prefix: prefix}
}

// Put implements PendingStore.
func (r *RedisPending) Put(ctx context.Context, state string, p Pending, ttl time.Duration) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return r.client.Do(ctx, r.client.B().Set().Key(r.prefix+state).Value(string(b)).Px(ttl).Build()).Error()
}

// Take implements PendingStore; GETDEL makes a state single-use even when two
// requests race.
func (r *RedisPending) Take(ctx context.Context, state string) (Pending, bool, error) {
	s, err := r.client.Do(ctx, r.client.B().Getdel().Key(r.prefix+state).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return Pending{}, false, nil
	}
	if err != nil {
		return Pending{}, false, err
	}
	var p Pending
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return Pending{}, false, err
	}
	return p, true, nil
}
