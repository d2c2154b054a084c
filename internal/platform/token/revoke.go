package token

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// RevocationTTL is how long a revocation is kept: the longest an access
// token issued before it can still pass the expiry check (its lifetime plus
// the verifier's leeway). After that the token has expired anyway.
const RevocationTTL = DefaultAccessTTL + DefaultLeeway

// Revocations make access tokens stop working before they expire: those of
// one login session (sign-out, a stolen refresh token) or of every session a
// user started before a moment (sign-out everywhere, a password change, a
// disabled account). Verifiers check them after the signature
// (WithRevocations). An entry lives RevocationTTL, the longest remaining
// lifetime of a token it can concern. Implementations: NewMemoryRevocations
// (one process: dev), NewRedisRevocations (every edge and service sharing
// one Redis); both pass the same contract tests.
type Revocations interface {
	// RevokeSession ends the access tokens of login session sid (their sid
	// claim, the refresh-token family).
	RevokeSession(ctx context.Context, sid string) error
	// RevokeUser ends the access tokens of userID's sessions that started
	// before at; sessions started at or after it are untouched.
	RevokeUser(ctx context.Context, userID string, at time.Time) error
	// Revoked reports whether the token with claims c has been revoked.
	Revoked(ctx context.Context, c *Claims) (bool, error)
}

// sessionStart is when c's session began: from its UUIDv7 sid, else (a
// token without one) its issue time.
func sessionStart(c *Claims) time.Time {
	if t := SessionStart(c.SessionID); !t.IsZero() {
		return t
	}
	return c.IssuedAt
}

// NewMemoryRevocations keeps revocations in this process's memory, for
// `emporium dev` and single-process deployments.
func NewMemoryRevocations() Revocations {
	return &memoryRevocations{sessions: map[string]time.Time{}, users: map[string]memUserRevocation{}, now: time.Now}
}

type memUserRevocation struct{ at, expires time.Time }

type memoryRevocations struct {
	mu       sync.RWMutex
	sessions map[string]time.Time // sid → entry expiry
	users    map[string]memUserRevocation
	now      func() time.Time
	swept    time.Time
}

func (m *memoryRevocations) RevokeSession(_ context.Context, sid string) error {
	if sid == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[sid] = m.now().Add(RevocationTTL)
	m.sweep()
	return nil
}

func (m *memoryRevocations) RevokeUser(_ context.Context, userID string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.users[userID]; !ok || at.After(prev.at) {
		m.users[userID] = memUserRevocation{at: at, expires: m.now().Add(RevocationTTL)}
	}
	m.sweep()
	return nil
}

func (m *memoryRevocations) Revoked(_ context.Context, c *Claims) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := m.now()
	if exp, ok := m.sessions[c.SessionID]; ok && c.SessionID != "" && now.Before(exp) {
		return true, nil
	}
	u, ok := m.users[c.Subject]
	return ok && now.Before(u.expires) && sessionStart(c).Before(u.at), nil
}

// sweep drops expired entries, at most once a minute; m.mu is held.
func (m *memoryRevocations) sweep() {
	now := m.now()
	if now.Sub(m.swept) < time.Minute {
		return
	}
	m.swept = now
	for sid, exp := range m.sessions {
		if !now.Before(exp) {
			delete(m.sessions, sid)
		}
	}
	for id, u := range m.users {
		if !now.Before(u.expires) {
			delete(m.users, id)
		}
	}
}

// NewRedisRevocations keeps revocations in Redis under prefix (e.g.
// "emporium:revoked:"), each key expiring after RevocationTTL. Checking a
// token reads two keys, cached on the client when it has client-side
// caching (see Revoked).
//
// Layout (one hash tag, so both keys of a check are on one Cluster shard):
//
//	<prefix>{rv}:s:<sid>   "1"
//	<prefix>{rv}:u:<user>  Unix ms before which the user's sessions are revoked
func NewRedisRevocations(client rueidis.Client, prefix string) Revocations {
	return &redisRevocations{c: client, prefix: prefix + "{rv}:"}
}

// revocationCacheTTL bounds how long a client-side cached answer is used;
// invalidations from Redis normally end it much sooner.
const revocationCacheTTL = time.Minute

// revocationCheckTimeout bounds a check that asks Redis: a Redis that does
// not answer (down, or unreachable without a refusal) must not hold every
// request for its whole deadline. The verifier then accepts the signed,
// unexpired token and logs it.
const revocationCheckTimeout = time.Second

type redisRevocations struct {
	c      rueidis.Client
	prefix string
}

// KEYS: user key. ARGV: ms, ttl ms. Keeps the latest moment.
var revokeUserAtScript = rueidis.NewLuaScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 'ok'
`)

func (r *redisRevocations) RevokeSession(ctx context.Context, sid string) error {
	if sid == "" {
		return nil
	}
	err := r.c.Do(ctx, r.c.B().Set().Key(r.prefix+"s:"+sid).Value("1").Px(RevocationTTL).Build()).Error()
	if err != nil {
		return fmt.Errorf("token: redis revocations: revoke session: %w", err)
	}
	return nil
}

func (r *redisRevocations) RevokeUser(ctx context.Context, userID string, at time.Time) error {
	err := revokeUserAtScript.Exec(ctx, r.c, []string{r.prefix + "u:" + userID},
		[]string{ms(at), strconv.FormatInt(RevocationTTL.Milliseconds(), 10)}).Error()
	if err != nil {
		return fmt.Errorf("token: redis revocations: revoke user: %w", err)
	}
	return nil
}

func (r *redisRevocations) Revoked(ctx context.Context, c *Claims) (bool, error) {
	sid := c.SessionID
	if sid == "" {
		sid = "-" // no session: only the user's entry can apply
	}
	// With client-side caching (rueidis' default, RESP3 tracking) the
	// answers are kept locally and Redis pushes an invalidation the moment
	// either key is written, so most checks cost no round trip; without it
	// (DisableCache) these are plain GETs.
	ctx, cancel := context.WithTimeout(ctx, revocationCheckTimeout)
	defer cancel()
	res := r.c.DoMultiCache(ctx,
		rueidis.CT(r.c.B().Get().Key(r.prefix+"s:"+sid).Cache(), revocationCacheTTL),
		rueidis.CT(r.c.B().Get().Key(r.prefix+"u:"+c.Subject).Cache(), revocationCacheTTL))
	if err := res[0].Error(); !rueidis.IsRedisNil(err) {
		if err != nil {
			return false, fmt.Errorf("token: redis revocations: check: %w", err)
		}
		return true, nil
	}
	v, err := res[1].AsInt64()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("token: redis revocations: check: %w", err)
	}
	return sessionStart(c).Before(time.UnixMilli(v)), nil
}
