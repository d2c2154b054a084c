package token

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// Verifier defaults.
const (
	DefaultLeeway = 30 * time.Second
	// DefaultRefreshInterval is how long fetched keys are used before the
	// JWKS is fetched again; it matches JWKSHandler's max-age.
	DefaultRefreshInterval = 5 * time.Minute
	// DefaultMinFetchInterval is the least time between two JWKS fetches,
	// whatever asks for them: tokens with unknown kids cannot make a verifier
	// fetch more often than this.
	DefaultMinFetchInterval = 10 * time.Second

	maxTokenBytes = 8 << 10
	maxJWKSBytes  = 1 << 20
	fetchTimeout  = 10 * time.Second
)

// ErrRevoked is the cause of the error Verify returns for a token whose
// session or user was revoked (WithRevocations).
var ErrRevoked = errors.New("token revoked")

var (
	errUnknownKid      = errors.New("unknown kid")
	errKeysUnavailable = errors.New("no JWKS could be fetched yet")
)

// Verifier checks access tokens: alg exactly EdDSA, typ at+jwt, a known kid,
// the signature, exp (required), nbf and iat with a leeway, the issuer and
// the audience, a subject and known roles. Its keys come either from a JWKS
// URL (NewVerifier) or from a KeySet in the same process
// (NewStaticVerifier). It implements authz.Authenticator and is safe for
// concurrent use.
type Verifier struct {
	issuer, audience string
	leeway           time.Duration
	now              func() time.Time
	sessionActive    func(ctx context.Context, sessionID string) bool
	revocations      Revocations
	log              *slog.Logger
	lastRevLog       atomic.Int64 // unix nanoseconds of the last revocation-store failure log
	parser           *jwt.Parser

	static *KeySet // keys of a static verifier

	// JWKS of a remote verifier.
	url              string
	client           *http.Client
	refreshInterval  time.Duration
	minFetchInterval time.Duration
	fetching         chan struct{} // a one-slot semaphore: one fetch at a time

	cacheMax int // 0: no cache
	cacheMu  sync.RWMutex
	cache    map[string]*Claims // verified tokens, by the token itself

	mu        sync.RWMutex
	keys      map[string]ed25519.PublicKey // nil until a fetch succeeds
	fetched   time.Time                    // last successful fetch (200 or 304)
	attempted time.Time                    // last fetch attempt
	etag      string
}

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier)

// WithLeeway sets the clock skew allowed on exp, nbf and iat (default 30 s).
func WithLeeway(d time.Duration) VerifierOption { return func(v *Verifier) { v.leeway = d } }

// WithClock sets the verifier's clock (default time.Now).
func WithClock(now func() time.Time) VerifierOption { return func(v *Verifier) { v.now = now } }

// WithHTTPClient sets the client that fetches the JWKS (default: a client
// with a 10 s timeout).
func WithHTTPClient(c *http.Client) VerifierOption { return func(v *Verifier) { v.client = c } }

// WithRefreshInterval sets how long fetched keys are used before the JWKS
// is fetched again (default 5 min).
func WithRefreshInterval(d time.Duration) VerifierOption {
	return func(v *Verifier) { v.refreshInterval = d }
}

// WithMinFetchInterval sets the least time between two JWKS fetches
// (default 10 s). It bounds the fetches a flood of tokens with bogus kids
// can cause.
func WithMinFetchInterval(d time.Duration) VerifierOption {
	return func(v *Verifier) { v.minFetchInterval = d }
}

// WithSessionCheck makes the verifier refuse a token whose sid is not an
// active session, e.g. with Refresher.FamilyActive, so that logging out
// takes effect before the access token expires. It costs a store lookup per
// request; tokens without a sid are not checked.
func WithSessionCheck(active func(ctx context.Context, sessionID string) bool) VerifierOption {
	return func(v *Verifier) { v.sessionActive = active }
}

// WithRevocations makes the verifier refuse, after checking the signature,
// a token whose session or user was revoked (sign-out, a password change, a
// disabled account), so that it stops working at once instead of when it
// expires. It runs on every call, cache hits included. When the store
// cannot answer, the token is judged by its signature and expiry alone
// (fail open: an outage of Redis must not sign everyone out), and that is
// logged on log at most every 10 s.
func WithRevocations(r Revocations, log *slog.Logger) VerifierOption {
	return func(v *Verifier) { v.revocations, v.log = r, log }
}

// WithCache remembers up to max verified tokens until they expire, so a
// token presented again (every request of a session) costs a map lookup
// instead of an Ed25519 verification. The session check, when set, still runs
// on every call.
func WithCache(max int) VerifierOption {
	return func(v *Verifier) { v.cacheMax = max }
}

func newVerifier(issuer, audience string, opts []VerifierOption) (*Verifier, error) {
	if issuer == "" || audience == "" {
		return nil, errors.New("token: a verifier needs an issuer and an audience")
	}
	v := &Verifier{
		issuer:           issuer,
		audience:         audience,
		leeway:           DefaultLeeway,
		now:              time.Now,
		refreshInterval:  DefaultRefreshInterval,
		minFetchInterval: DefaultMinFetchInterval,
		fetching:         make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(v)
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: fetchTimeout}
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{alg}),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithStrictDecoding(),
	)
	return v, nil
}

// NewVerifier returns a verifier whose keys come from the JWK Set at
// jwksURL (the edge's /.well-known/jwks.json). Keys are fetched on first
// use, refetched when older than the refresh interval or when a token names
// an unknown kid, never more often than the minimum fetch interval, and
// kept when a fetch fails.
func NewVerifier(jwksURL, issuer, audience string, opts ...VerifierOption) (*Verifier, error) {
	u, err := url.Parse(jwksURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("token: JWKS URL %q is not an absolute http(s) URL", jwksURL)
	}
	v, err := newVerifier(issuer, audience, opts)
	if err != nil {
		return nil, err
	}
	v.url = jwksURL
	return v, nil
}

// NewStaticVerifier returns a verifier that checks tokens against keys
// directly (in-process use, such as `emporium dev`).
func NewStaticVerifier(keys *KeySet, issuer, audience string, opts ...VerifierOption) (*Verifier, error) {
	if keys == nil {
		return nil, errors.New("token: NewStaticVerifier: nil KeySet")
	}
	v, err := newVerifier(issuer, audience, opts)
	if err != nil {
		return nil, err
	}
	v.static = keys
	return v, nil
}

// Verify checks an access token and returns its claims. A bad token gets an
// errs.Unauthenticated error ("token expired", "token not yet valid",
// "invalid token", "session ended"), whose cause (never shown to callers)
// says what was wrong; when no keys could be fetched yet the error is
// errs.Unavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if v.cacheMax <= 0 {
		return v.verify(ctx, token)
	}
	v.cacheMu.RLock()
	c, ok := v.cache[token]
	v.cacheMu.RUnlock()
	if ok && v.now().Before(c.ExpiresAt) {
		if err := v.current(ctx, c); err != nil {
			return nil, err
		}
		return c, nil
	}
	c, err := v.verify(ctx, token)
	if err != nil {
		return nil, err
	}
	v.cacheMu.Lock()
	if v.cache == nil || len(v.cache) >= v.cacheMax {
		v.cache = make(map[string]*Claims) // start again rather than grow
	}
	v.cache[token] = c
	v.cacheMu.Unlock()
	return c, nil
}

func (v *Verifier) verify(ctx context.Context, token string) (*Claims, error) {
	if token == "" || len(token) > maxTokenBytes {
		return nil, invalid(errors.New("empty or oversized token"))
	}
	var (
		wc     wireClaims
		kid    string
		keyErr error
	)
	_, err := v.parser.ParseWithClaims(token, &wc, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodEdDSA { // WithValidMethods checked too
			return nil, fmt.Errorf("alg %v", t.Header["alg"])
		}
		if tt, _ := t.Header["typ"].(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(tt), "application/"), typ) {
			return nil, fmt.Errorf("typ %q is not %s", tt, typ)
		}
		kid, _ = t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid")
		}
		var k ed25519.PublicKey
		k, keyErr = v.key(ctx, kid)
		if keyErr != nil {
			return nil, keyErr
		}
		return k, nil
	})
	switch {
	case errors.Is(keyErr, errKeysUnavailable):
		return nil, &errs.Error{Kind: errs.Unavailable, Message: "cannot verify tokens yet: signing keys unavailable", Err: keyErr}
	case err == nil:
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, invalid(err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, &errs.Error{Kind: errs.Unauthenticated, Message: "token expired", Err: err}
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, &errs.Error{Kind: errs.Unauthenticated, Message: "token not yet valid", Err: err}
	default:
		return nil, invalid(err)
	}
	if wc.Subject == "" {
		return nil, invalid(errors.New("no sub"))
	}
	for _, r := range wc.Roles {
		if !slices.Contains(UserRoles, r) {
			return nil, invalid(fmt.Errorf("role %q", r))
		}
	}
	c := &Claims{
		Issuer:    wc.Issuer,
		Audience:  []string(wc.Audience),
		Subject:   wc.Subject,
		Roles:     wc.Roles,
		SessionID: wc.SessionID,
		ID:        wc.ID,
		IssuedAt:  numericTime(wc.IssuedAt),
		NotBefore: numericTime(wc.NotBefore),
		ExpiresAt: numericTime(wc.ExpiresAt),
		KeyID:     kid,
	}
	if err := v.current(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// current checks that the session of a well-signed token has not ended.
func (v *Verifier) current(ctx context.Context, c *Claims) error {
	if v.sessionActive != nil && c.SessionID != "" && !v.sessionActive(ctx, c.SessionID) {
		return errs.Unauthenticatedf("session ended: sign in again")
	}
	if v.revocations == nil {
		return nil
	}
	revoked, err := v.revocations.Revoked(ctx, c)
	if err != nil {
		if now := time.Now().UnixNano(); now-v.lastRevLog.Load() > int64(10*time.Second) && v.log != nil {
			v.lastRevLog.Store(now)
			v.log.WarnContext(ctx, "token revocations unavailable: accepting signed, unexpired tokens", "err", err)
		}
		return nil
	}
	if revoked {
		return &errs.Error{Kind: errs.Unauthenticated, Message: "session ended: sign in again", Err: ErrRevoked}
	}
	return nil
}

func invalid(cause error) error {
	return &errs.Error{Kind: errs.Unauthenticated, Message: "invalid token", Err: cause}
}

func numericTime(d *jwt.NumericDate) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time
}

// Authenticate implements authz.Authenticator: no Authorization header gives
// (nil, nil), a bad one an errs.Unauthenticated error, a valid bearer token
// its subject and roles.
func (v *Verifier) Authenticate(ctx context.Context, h http.Header) (*authz.Principal, error) {
	tok, present, err := authz.BearerToken(h)
	if !present || err != nil {
		return nil, err
	}
	c, err := v.Verify(ctx, tok)
	if err != nil {
		return nil, err
	}
	return &authz.Principal{Subject: c.Subject, Roles: slices.Clone(c.Roles)}, nil
}

type claimsKey struct{}

// NewContext returns ctx carrying verified claims, for code that calls
// Verify itself and wants the session id or token id further down.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFromContext returns the claims NewContext stored, or nil.
func ClaimsFromContext(ctx context.Context) *Claims {
	c, _ := ctx.Value(claimsKey{}).(*Claims)
	return c
}

// key returns the public key of kid, fetching the JWKS when the cache is
// stale or does not know kid.
func (v *Verifier) key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	if v.static != nil {
		if k, ok := v.static.publicKey(kid); ok {
			return k, nil
		}
		return nil, errUnknownKid
	}
	v.mu.RLock()
	k, ok := v.keys[kid]
	fresh := !v.fetched.IsZero() && v.now().Sub(v.fetched) < v.refreshInterval
	v.mu.RUnlock()
	switch {
	case ok && fresh:
		return k, nil
	case ok:
		v.fetch(ctx, false, false) // stale: refresh unless someone already is
	default:
		v.fetch(ctx, true, false) // unknown kid: wait for the (rate-limited) fetch
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	if v.keys == nil {
		return nil, errKeysUnavailable
	}
	return nil, errUnknownKid
}

// Refresh fetches the JWKS now, ignoring the minimum fetch interval (but
// never running two fetches at once). Call it at startup to warm the cache
// and to learn early that the URL is wrong; Verify does not need it.
func (v *Verifier) Refresh(ctx context.Context) error {
	if v.static != nil {
		return nil
	}
	return v.fetch(ctx, true, true)
}

// fetch gets the JWKS unless the last attempt was less than the minimum
// fetch interval ago (or force). With wait false it gives up at once when
// another fetch is running.
func (v *Verifier) fetch(ctx context.Context, wait, force bool) error {
	if wait {
		select {
		case v.fetching <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	} else {
		select {
		case v.fetching <- struct{}{}:
		default:
			return nil
		}
	}
	defer func() { <-v.fetching }()

	now := v.now()
	v.mu.Lock()
	// Until a first fetch succeeds (the edge may start after this service),
	// retry after 200 ms; after that, at most every minFetchInterval.
	gap := v.minFetchInterval
	if v.keys == nil {
		gap = min(gap, 200*time.Millisecond)
	}
	if !force && !v.attempted.IsZero() && now.Sub(v.attempted) < gap {
		v.mu.Unlock()
		return nil
	}
	v.attempted = now
	etag := v.etag
	v.mu.Unlock()

	// A caller that gives up must not abort the fetch everyone else waits for.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	keys, newTag, err := v.get(ctx, etag)
	if err != nil {
		return fmt.Errorf("token: fetch JWKS from %s: %w", v.url, err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fetched = v.now()
	if keys != nil { // nil: 304 Not Modified
		v.keys, v.etag = keys, newTag
	}
	return nil
}

func (v *Verifier) get(ctx context.Context, etag string) (map[string]ed25519.PublicKey, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	v.mu.RLock()
	haveKeys := v.keys != nil
	v.mu.RUnlock()
	if etag != "" && haveKeys {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := v.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotModified && haveKeys {
		return nil, etag, nil
	}
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		return nil, "", fmt.Errorf("status %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(body) > maxJWKSBytes {
		return nil, "", errors.New("JWKS larger than 1 MiB")
	}
	keys, err := ParseJWKS(body)
	if err != nil {
		return nil, "", err
	}
	return keys, res.Header.Get("ETag"), nil
}

// ParseJWKS returns the Ed25519 signing keys of a JWK Set by kid, skipping
// keys of other types. A set without a single usable key is an error.
func ParseJWKS(data []byte) (map[string]ed25519.PublicKey, error) {
	var set JWKSet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	keys := make(map[string]ed25519.PublicKey, len(set.Keys))
	for _, j := range set.Keys {
		if k, err := j.publicKey(); err == nil {
			keys[j.Kid] = k
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS has no usable Ed25519 key")
	}
	return keys, nil
}
