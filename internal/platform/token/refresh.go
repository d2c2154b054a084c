package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"github.com/google/uuid"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// DefaultRefreshTTL is how long a refresh token lives unless
// Refresher.TTL says otherwise. Each rotation starts a new period.
const DefaultRefreshTTL = 30 * 24 * time.Hour

// Store errors: what Store.Rotate reports about the token it was given. A
// Refresher turns them into errs.Unauthenticated errors that still match
// them with errors.Is (to log reuse as a security event, say).
var (
	ErrRefreshNotFound = errors.New("refresh token not found")
	ErrRefreshExpired  = errors.New("refresh token expired")
	ErrRefreshRevoked  = errors.New("refresh token family revoked")
	ErrRefreshReused   = errors.New("refresh token reused")
)

// RefreshRecord is what a store keeps about one refresh token, under the
// token's hash.
type RefreshRecord struct {
	UserID    string
	FamilyID  string // the login session: every rotation of one sign-in
	ExpiresAt time.Time
}

// Store keeps refresh tokens by their hash (HashRefreshToken), never the raw
// token. Its state machine per token: active → used (rotated); per family:
// active → revoked. Implementations: NewMemoryStore, NewRedisStore; both
// pass the same contract tests.
type Store interface {
	// Create stores the first token of a new family.
	Create(ctx context.Context, hash string, rec RefreshRecord) error
	// Rotate atomically checks the token oldHash at time now and, when it
	// is active, unexpired and its family active, marks it used and stores
	// newHash in the same family, expiring at newExpiry. It returns the new
	// token's record. Otherwise it returns ErrRefreshNotFound,
	// ErrRefreshExpired, ErrRefreshRevoked, or, for a token already used,
	// ErrRefreshReused after revoking the token's whole family. Of several
	// concurrent calls with one oldHash, exactly one succeeds.
	Rotate(ctx context.Context, oldHash, newHash string, newExpiry, now time.Time) (RefreshRecord, error)
	// Lookup returns the record of a stored token (used or not), or
	// ErrRefreshNotFound.
	Lookup(ctx context.Context, hash string) (RefreshRecord, error)
	// RevokeFamily revokes a family; unknown families are ignored.
	RevokeFamily(ctx context.Context, familyID string) error
	// RevokeUser revokes every family of a user.
	RevokeUser(ctx context.Context, userID string) error
	// FamilyActive reports whether a family exists, is not revoked and has
	// a token unexpired at now.
	FamilyActive(ctx context.Context, familyID string, now time.Time) (bool, error)
}

// HashRefreshToken is the key a Store keeps a raw refresh token under:
// SHA-256, base64url. (The token has 256 random bits, so a plain hash
// suffices: there is nothing to brute-force.)
func HashRefreshToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return b64.EncodeToString(sum[:])
}

// Refresher issues, rotates and revokes refresh tokens: opaque strings of
// 32 random bytes (base64url) that a Store keeps only hashed.
type Refresher struct {
	Store Store
	// Revocations, when set, also end the access tokens of the sessions
	// Revoke, RevokeFamily, RevokeUser and reuse detection end, at once
	// rather than when they expire.
	Revocations Revocations
	TTL         time.Duration    // DefaultRefreshTTL when zero
	Now         func() time.Time // time.Now when nil
}

// RefreshInfo describes a refresh token Refresh issued.
type RefreshInfo struct {
	UserID    string
	FamilyID  string // use it as the access token's sid
	ExpiresAt time.Time
	// SessionStart is when the family's first token was issued (the
	// sign-in), so a caller can end sessions older than a password change.
	SessionStart time.Time
}

// newFamilyID is a UUIDv7 (RFC 9562) for a session starting at now: 48 bits
// of Unix milliseconds, then random bits.
func newFamilyID(now time.Time) string {
	var id uuid.UUID
	_, _ = rand.Read(id[:])
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		id[i] = byte(ms >> (40 - 8*i))
	}
	id[6] = id[6]&0x0f | 0x70 // version 7
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id.String()
}

// SessionStart is when the login session familyID began: family ids are
// UUIDv7, which carry their creation time. Zero for an id of another form.
func SessionStart(familyID string) time.Time {
	id, err := uuid.Parse(familyID)
	if err != nil || id.Version() != 7 {
		return time.Time{}
	}
	sec, nsec := id.Time().UnixTime()
	return time.Unix(sec, nsec)
}

func (r *Refresher) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Refresher) expiry(now time.Time) time.Time {
	ttl := r.TTL
	if ttl <= 0 {
		ttl = DefaultRefreshTTL
	}
	return now.Add(ttl).Truncate(time.Millisecond) // what stores keep
}

// TokenTTL is how long the tokens r issues live (for a cookie's Max-Age).
func (r *Refresher) TokenTTL() time.Duration {
	if r.TTL <= 0 {
		return DefaultRefreshTTL
	}
	return r.TTL
}

// Issue starts a login session for userID: a new family and its first
// token.
func (r *Refresher) Issue(ctx context.Context, userID string) (raw, familyID string, err error) {
	if userID == "" {
		return "", "", errs.Invalidf("refresh token: empty user id")
	}
	// A UUIDv7 family id is unique and tells when the session began (see
	// SessionStart); it is no secret (it is the access token's sid).
	raw, familyID = randomString(32), newFamilyID(r.now())
	rec := RefreshRecord{UserID: userID, FamilyID: familyID, ExpiresAt: r.expiry(r.now())}
	if err := r.Store.Create(ctx, HashRefreshToken(raw), rec); err != nil {
		return "", "", err
	}
	return raw, familyID, nil
}

// Refresh exchanges raw for a new token of the same family; raw stops
// working. Presenting a token that was already exchanged is taken as theft:
// the whole family is revoked (both the thief's and the owner's tokens stop
// working) and the error says so. Clients must therefore never refresh with
// one token twice, not even from two tabs at once.
func (r *Refresher) Refresh(ctx context.Context, raw string) (newRaw string, info RefreshInfo, err error) {
	if !wellFormedRefresh(raw) {
		return "", RefreshInfo{}, refreshError(ErrRefreshNotFound)
	}
	now := r.now()
	newRaw = randomString(32)
	rec, err := r.Store.Rotate(ctx, HashRefreshToken(raw), HashRefreshToken(newRaw), r.expiry(now), now)
	if errors.Is(err, ErrRefreshReused) && r.Revocations != nil {
		// The store revoked the family; its access tokens (the thief's
		// too) end now as well.
		if old, lerr := r.Store.Lookup(ctx, HashRefreshToken(raw)); lerr == nil {
			if rerr := r.Revocations.RevokeSession(ctx, old.FamilyID); rerr != nil {
				return "", RefreshInfo{}, rerr
			}
		}
	}
	if err != nil {
		return "", RefreshInfo{}, refreshError(err)
	}
	return newRaw, RefreshInfo{
		UserID: rec.UserID, FamilyID: rec.FamilyID, ExpiresAt: rec.ExpiresAt,
		SessionStart: SessionStart(rec.FamilyID),
	}, nil
}

// wellFormedRefresh reports whether raw could be one of our tokens, so that
// garbage costs no store round trip.
func wellFormedRefresh(raw string) bool {
	if len(raw) != 43 { // 32 bytes, base64url without padding
		return false
	}
	_, err := b64.DecodeString(raw)
	return err == nil
}

func refreshError(err error) error {
	msg := ""
	switch {
	case errors.Is(err, ErrRefreshReused):
		msg = "refresh token reuse detected; signed out everywhere in this session"
	case errors.Is(err, ErrRefreshExpired):
		msg = "refresh token expired: sign in again"
	case errors.Is(err, ErrRefreshRevoked):
		msg = "session ended: sign in again"
	case errors.Is(err, ErrRefreshNotFound):
		msg = "invalid refresh token"
	default:
		return err // a store failure, not the caller's fault
	}
	return &errs.Error{Kind: errs.Unauthenticated, Message: msg, Err: err}
}

// Revoke ends the login session raw belongs to (logout). Unknown or
// malformed tokens are ignored: logging out twice is not an error.
func (r *Refresher) Revoke(ctx context.Context, raw string) error {
	if !wellFormedRefresh(raw) {
		return nil
	}
	rec, err := r.Store.Lookup(ctx, HashRefreshToken(raw))
	if errors.Is(err, ErrRefreshNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return r.RevokeFamily(ctx, rec.FamilyID)
}

// RevokeFamily ends the login session familyID (an access token's sid).
func (r *Refresher) RevokeFamily(ctx context.Context, familyID string) error {
	if err := r.Store.RevokeFamily(ctx, familyID); err != nil {
		return err
	}
	if r.Revocations != nil {
		return r.Revocations.RevokeSession(ctx, familyID)
	}
	return nil
}

// RevokeUser ends every login session of userID (logout everywhere, and
// what to do on a password change or when an account is disabled).
func (r *Refresher) RevokeUser(ctx context.Context, userID string) error {
	if err := r.Store.RevokeUser(ctx, userID); err != nil {
		return err
	}
	if r.Revocations != nil {
		return r.Revocations.RevokeUser(ctx, userID, r.now())
	}
	return nil
}

// FamilyActive reports whether the login session familyID is still on. It
// fails closed: when the store cannot answer, the session counts as ended.
// Its signature fits WithSessionCheck.
func (r *Refresher) FamilyActive(ctx context.Context, familyID string) bool {
	ok, err := r.Store.FamilyActive(ctx, familyID, r.now())
	return err == nil && ok
}
