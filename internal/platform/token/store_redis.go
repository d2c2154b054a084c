package token

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// NewRedisStore returns a Store in Redis, every key under prefix (e.g.
// "emporium:refresh:"). Rotation, reuse detection and revocation run as Lua
// scripts, so they are atomic however many edge replicas race. Keys expire
// with the tokens they describe.
//
// Layout (all keys share the hash tag {rt}, so the scripts also work on a
// Redis Cluster, with this data on one shard):
//
//	<prefix>{rt}:t:<token hash>  hash u=user f=family e=expiry(ms) s=a|u (active|used)
//	<prefix>{rt}:f:<family id>   hash u=user e=newest expiry(ms) s=a|r (active|revoked)
//	<prefix>{rt}:u:<user id>     set of family ids
func NewRedisStore(client rueidis.Client, prefix string) Store {
	return &redisStore{c: client, prefix: prefix + "{rt}:"}
}

type redisStore struct {
	c      rueidis.Client
	prefix string
}

func (s *redisStore) tokenKey(hash string) string  { return s.prefix + "t:" + hash }
func (s *redisStore) familyKey(id string) string   { return s.prefix + "f:" + id }
func (s *redisStore) userKey(userID string) string { return s.prefix + "u:" + userID }

var errCollision = errors.New("token: random identifier collision")

// extendLua sets a key's expiry to at, or later if it already expires later.
const extendLua = `
local function extend(key, at)
  if redis.call('PTTL', key) == -1 then
    redis.call('PEXPIREAT', key, at)
  else
    redis.call('PEXPIREAT', key, at, 'GT')
  end
end
`

// KEYS: token, family, user. ARGV: user id, family id, expiry ms.
var createScript = rueidis.NewLuaScript(extendLua + `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return 'collision'
end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'f', ARGV[2], 'e', ARGV[3], 's', 'a')
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], 'u', ARGV[1], 'e', ARGV[3], 's', 'a')
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[2])
extend(KEYS[3], ARGV[3])
return 'ok'
`)

// KEYS: old token, new token, family, user. ARGV: family id the old token
// was read with, now ms, new expiry ms.
var rotateScript = rueidis.NewLuaScript(extendLua + `
local t = redis.call('HMGET', KEYS[1], 'u', 'f', 'e', 's')
if not t[1] or t[2] ~= ARGV[1] then
  return {'notfound'}
end
if tonumber(t[3]) <= tonumber(ARGV[2]) then
  return {'expired'}
end
local fs = redis.call('HGET', KEYS[3], 's')
if t[4] == 'u' then
  if fs then
    redis.call('HSET', KEYS[3], 's', 'r')
  end
  return {'reused'}
end
if fs ~= 'a' then
  return {'revoked'}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'collision'}
end
redis.call('HSET', KEYS[1], 's', 'u')
redis.call('HSET', KEYS[2], 'u', t[1], 'f', t[2], 'e', ARGV[3], 's', 'a')
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
local fe = tonumber(redis.call('HGET', KEYS[3], 'e') or '0')
if tonumber(ARGV[3]) > fe then
  redis.call('HSET', KEYS[3], 'e', ARGV[3])
end
extend(KEYS[3], ARGV[3])
extend(KEYS[4], ARGV[3])
return {'ok', t[1], t[2]}
`)

// KEYS: family.
var revokeFamilyScript = rueidis.NewLuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 's', 'r')
end
return 'ok'
`)

// KEYS: user, then families. ARGV: the families' ids.
var revokeUserScript = rueidis.NewLuaScript(`
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i], 's', 'r')
  end
  redis.call('SREM', KEYS[1], ARGV[i-1])
end
return 'ok'
`)

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func (s *redisStore) Create(ctx context.Context, hash string, rec RefreshRecord) error {
	res, err := createScript.Exec(ctx, s.c,
		[]string{s.tokenKey(hash), s.familyKey(rec.FamilyID), s.userKey(rec.UserID)},
		[]string{rec.UserID, rec.FamilyID, ms(rec.ExpiresAt)}).ToString()
	if err != nil {
		return fmt.Errorf("token: redis store: create: %w", err)
	}
	if res != "ok" {
		return errCollision
	}
	return nil
}

// fields reads hash fields, "" for missing ones; found is false when the
// key does not exist.
func (s *redisStore) fields(ctx context.Context, key string, names ...string) (vals []string, found bool, err error) {
	arr, err := s.c.Do(ctx, s.c.B().Hmget().Key(key).Field(names...).Build()).ToArray()
	if err != nil {
		return nil, false, err
	}
	vals = make([]string, len(arr))
	for i := range arr {
		if arr[i].IsNil() {
			continue
		}
		found = true
		if vals[i], err = arr[i].ToString(); err != nil {
			return nil, false, err
		}
	}
	return vals, found, nil
}

func (s *redisStore) Lookup(ctx context.Context, hash string) (RefreshRecord, error) {
	v, found, err := s.fields(ctx, s.tokenKey(hash), "u", "f", "e")
	if err != nil {
		return RefreshRecord{}, fmt.Errorf("token: redis store: lookup: %w", err)
	}
	if !found {
		return RefreshRecord{}, ErrRefreshNotFound
	}
	e, err := strconv.ParseInt(v[2], 10, 64)
	if err != nil {
		return RefreshRecord{}, fmt.Errorf("token: redis store: lookup: bad expiry %q", v[2])
	}
	return RefreshRecord{UserID: v[0], FamilyID: v[1], ExpiresAt: time.UnixMilli(e)}, nil
}

func (s *redisStore) Rotate(ctx context.Context, oldHash, newHash string, newExpiry, now time.Time) (RefreshRecord, error) {
	// The token's user and family never change, so reading them first to
	// name every key the script touches is safe; the script rechecks.
	old, err := s.Lookup(ctx, oldHash)
	if err != nil {
		return RefreshRecord{}, err
	}
	res, err := rotateScript.Exec(ctx, s.c,
		[]string{s.tokenKey(oldHash), s.tokenKey(newHash), s.familyKey(old.FamilyID), s.userKey(old.UserID)},
		[]string{old.FamilyID, ms(now), ms(newExpiry)}).AsStrSlice()
	if err != nil {
		return RefreshRecord{}, fmt.Errorf("token: redis store: rotate: %w", err)
	}
	switch res[0] {
	case "ok":
		return RefreshRecord{UserID: old.UserID, FamilyID: old.FamilyID, ExpiresAt: time.UnixMilli(newExpiry.UnixMilli())}, nil
	case "notfound":
		return RefreshRecord{}, ErrRefreshNotFound
	case "expired":
		return RefreshRecord{}, ErrRefreshExpired
	case "reused":
		return RefreshRecord{}, ErrRefreshReused
	case "revoked":
		return RefreshRecord{}, ErrRefreshRevoked
	case "collision":
		return RefreshRecord{}, errCollision
	}
	return RefreshRecord{}, fmt.Errorf("token: redis store: rotate: unexpected reply %q", res)
}

func (s *redisStore) RevokeFamily(ctx context.Context, familyID string) error {
	if err := revokeFamilyScript.Exec(ctx, s.c, []string{s.familyKey(familyID)}, nil).Error(); err != nil {
		return fmt.Errorf("token: redis store: revoke family: %w", err)
	}
	return nil
}

func (s *redisStore) RevokeUser(ctx context.Context, userID string) error {
	fams, err := s.c.Do(ctx, s.c.B().Smembers().Key(s.userKey(userID)).Build()).AsStrSlice()
	if err != nil {
		return fmt.Errorf("token: redis store: revoke user: %w", err)
	}
	const batch = 256
	for len(fams) > 0 {
		n := min(batch, len(fams))
		keys := []string{s.userKey(userID)}
		for _, id := range fams[:n] {
			keys = append(keys, s.familyKey(id))
		}
		if err := revokeUserScript.Exec(ctx, s.c, keys, fams[:n]).Error(); err != nil {
			return fmt.Errorf("token: redis store: revoke user: %w", err)
		}
		fams = fams[n:]
	}
	return nil
}

func (s *redisStore) FamilyActive(ctx context.Context, familyID string, now time.Time) (bool, error) {
	v, found, err := s.fields(ctx, s.familyKey(familyID), "s", "e")
	if err != nil {
		return false, fmt.Errorf("token: redis store: family active: %w", err)
	}
	if !found || v[0] != "a" {
		return false, nil
	}
	e, err := strconv.ParseInt(v[1], 10, 64)
	return err == nil && now.UnixMilli() < e, nil
}
