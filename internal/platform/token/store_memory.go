package token

import (
	"context"
	"sync"
	"time"
)

// NewMemoryStore returns a Store in process memory: for `emporium dev` and
// single-process deployments. Sessions do not survive a restart.
func NewMemoryStore() Store {
	return &memoryStore{
		tokens:   map[string]*memToken{},
		families: map[string]*memFamily{},
		users:    map[string]map[string]struct{}{},
	}
}

type memoryStore struct {
	mu       sync.Mutex
	tokens   map[string]*memToken // by hash
	families map[string]*memFamily
	users    map[string]map[string]struct{} // user id → family ids
	swept    time.Time                      // last sweep of expired entries
}

type memToken struct {
	rec  RefreshRecord
	used bool
}

type memFamily struct {
	userID    string
	revoked   bool
	expiresAt time.Time // of its newest token
}

func (s *memoryStore) Create(_ context.Context, hash string, rec RefreshRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens[hash]; ok {
		return errCollision
	}
	if _, ok := s.families[rec.FamilyID]; ok {
		return errCollision
	}
	s.tokens[hash] = &memToken{rec: rec}
	s.families[rec.FamilyID] = &memFamily{userID: rec.UserID, expiresAt: rec.ExpiresAt}
	fams := s.users[rec.UserID]
	if fams == nil {
		fams = map[string]struct{}{}
		s.users[rec.UserID] = fams
	}
	fams[rec.FamilyID] = struct{}{}
	s.wrote()
	return nil
}

func (s *memoryStore) Rotate(_ context.Context, oldHash, newHash string, newExpiry, now time.Time) (RefreshRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[oldHash]
	if !ok {
		return RefreshRecord{}, ErrRefreshNotFound
	}
	if !now.Before(t.rec.ExpiresAt) {
		return RefreshRecord{}, ErrRefreshExpired
	}
	f := s.families[t.rec.FamilyID]
	if t.used {
		if f != nil {
			f.revoked = true
		}
		return RefreshRecord{}, ErrRefreshReused
	}
	if f == nil || f.revoked {
		return RefreshRecord{}, ErrRefreshRevoked
	}
	if _, ok := s.tokens[newHash]; ok {
		return RefreshRecord{}, errCollision
	}
	t.used = true
	rec := RefreshRecord{UserID: t.rec.UserID, FamilyID: t.rec.FamilyID, ExpiresAt: newExpiry}
	s.tokens[newHash] = &memToken{rec: rec}
	if newExpiry.After(f.expiresAt) {
		f.expiresAt = newExpiry
	}
	s.wrote()
	return rec, nil
}

func (s *memoryStore) Lookup(_ context.Context, hash string) (RefreshRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return RefreshRecord{}, ErrRefreshNotFound
	}
	return t.rec, nil
}

func (s *memoryStore) RevokeFamily(_ context.Context, familyID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.families[familyID]; ok {
		f.revoked = true
	}
	return nil
}

func (s *memoryStore) RevokeUser(_ context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.users[userID] {
		if f, ok := s.families[id]; ok {
			f.revoked = true
		}
	}
	delete(s.users, userID)
	return nil
}

func (s *memoryStore) FamilyActive(_ context.Context, familyID string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.families[familyID]
	return ok && !f.revoked && now.Before(f.expiresAt), nil
}

// wrote drops, at most once a minute, what has expired by the wall clock
// (like Redis' key expiry): expired tokens fail as unknown, which they
// would anyway.
func (s *memoryStore) wrote() {
	now := time.Now()
	if now.Sub(s.swept) < time.Minute {
		return
	}
	s.swept = now
	for h, t := range s.tokens {
		if !now.Before(t.rec.ExpiresAt) {
			delete(s.tokens, h)
		}
	}
	for id, f := range s.families {
		if !now.Before(f.expiresAt) {
			delete(s.families, id)
			if fams := s.users[f.userID]; fams != nil {
				delete(fams, id)
				if len(fams) == 0 {
					delete(s.users, f.userID)
				}
			}
		}
	}
}
