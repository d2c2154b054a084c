package token

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// craft signs arbitrary claims with arbitrary header fields, to build the
// tokens an attacker would.
func craft(t testing.TB, method jwt.SigningMethod, header map[string]any, claims jwt.Claims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validClaims(now time.Time) wireClaims {
	return wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    testIssuer,
			Subject:   "user-1",
			Audience:  jwt.ClaimStrings{testAudience},
			ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        "jti-1",
		},
		Roles:     []string{"customer"},
		SessionID: "sid-1",
	}
}

// resegment replaces segment i (0 header, 1 payload) of a token with the
// JSON of change applied to its decoded contents, keeping the signature.
func resegment(t testing.TB, tok string, i int, change func(m map[string]any)) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := b64.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	parts[i] = b64.EncodeToString(out)
	return strings.Join(parts, ".")
}

func TestVerifyRejectsAttacks(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	active := ks.Active()
	now := time.Now()
	signer := &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}
	v := mustStaticVerifier(t, ks)
	valid := mustSign(t, signer, "user-1", []string{"customer"}, "sid-1")

	stranger := mustKey(t)
	impostor := mustKey(t)
	impostor.ID = active.ID // another key claiming the active kid
	impostorSet, err := NewKeySet(impostor)
	if err != nil {
		t.Fatal(err)
	}
	hdr := map[string]any{"kid": active.ID, "typ": "at+jwt"}
	shifted := func(d time.Duration, iss, aud string) string {
		return mustSign(t, &Signer{Keys: ks, Issuer: iss, Audience: aud, TTL: 15 * time.Minute,
			Now: func() time.Time { return now.Add(d) }}, "user-1", []string{"customer"}, "sid-1")
	}
	with := func(change func(c *wireClaims)) string {
		c := validClaims(now)
		change(&c)
		return craft(t, jwt.SigningMethodEdDSA, hdr, c, active.Private)
	}

	tests := []struct {
		name    string
		token   string
		wantMsg string // "" means accepted
	}{
		{"valid token (positive control)", valid, ""},
		{"expired within leeway", shifted(-15*time.Minute-10*time.Second, testIssuer, testAudience), ""},
		{"alg none", craft(t, jwt.SigningMethodNone, hdr, validClaims(now), jwt.UnsafeAllowNoneSignatureType), "invalid token"},
		{"alg none, no signature segment", strings.Join(strings.Split(craft(t, jwt.SigningMethodNone, hdr, validClaims(now), jwt.UnsafeAllowNoneSignatureType), ".")[:2], "."), "invalid token"},
		{"HS256 with the public key as HMAC secret", craft(t, jwt.SigningMethodHS256, hdr, validClaims(now), []byte(active.Public)), "invalid token"},
		{"HS256 with the base64url public key as HMAC secret", craft(t, jwt.SigningMethodHS256, hdr, validClaims(now), []byte(b64.EncodeToString(active.Public))), "invalid token"},
		{"unknown kid", craft(t, jwt.SigningMethodEdDSA, map[string]any{"kid": stranger.ID, "typ": "at+jwt"}, validClaims(now), stranger.Private), "invalid token"},
		{"no kid", craft(t, jwt.SigningMethodEdDSA, map[string]any{"typ": "at+jwt"}, validClaims(now), active.Private), "invalid token"},
		{"known kid, signed by another key", mustSign(t, &Signer{Keys: impostorSet, Issuer: testIssuer, Audience: testAudience}, "user-1", []string{"admin"}, "sid-1"), "invalid token"},
		{"payload tampered: roles set to admin", resegment(t, valid, 1, func(m map[string]any) { m["roles"] = []string{"admin"} }), "invalid token"},
		{"payload tampered: subject changed", resegment(t, valid, 1, func(m map[string]any) { m["sub"] = "user-2" }), "invalid token"},
		{"header tampered: extra field", resegment(t, valid, 0, func(m map[string]any) { m["x"] = 1 }), "invalid token"},
		{"header tampered: alg HS256", resegment(t, valid, 0, func(m map[string]any) { m["alg"] = "HS256" }), "invalid token"},
		{"header tampered: jku pointing elsewhere", resegment(t, valid, 0, func(m map[string]any) { m["jku"] = "https://evil.test/jwks.json" }), "invalid token"},
		{"signature stripped", strings.Join(strings.Split(valid, ".")[:2], ".") + ".", "invalid token"},
		{"expired", shifted(-time.Hour, testIssuer, testAudience), "token expired"},
		{"not yet valid", shifted(5*time.Minute, testIssuer, testAudience), "token not yet valid"},
		{"nbf in the future, iat now", with(func(c *wireClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(5 * time.Minute)) }), "token not yet valid"},
		{"wrong issuer", shifted(0, "https://evil.test", testAudience), "invalid token"},
		{"wrong audience", shifted(0, testIssuer, "another-app"), "invalid token"},
		{"issuer differs by a trailing slash", shifted(0, testIssuer+"/", testAudience), "invalid token"},
		{"no exp", with(func(c *wireClaims) { c.ExpiresAt = nil }), "invalid token"},
		{"no subject", with(func(c *wireClaims) { c.Subject = "" }), "invalid token"},
		{"service role in a user token", with(func(c *wireClaims) { c.Roles = []string{"service"} }), "invalid token"},
		{"unknown role", with(func(c *wireClaims) { c.Roles = []string{"root"} }), "invalid token"},
		{"typ missing", craft(t, jwt.SigningMethodEdDSA, map[string]any{"kid": active.ID, "typ": nil}, validClaims(now), active.Private), "invalid token"},
		{"typ JWT (not an access token)", craft(t, jwt.SigningMethodEdDSA, map[string]any{"kid": active.ID, "typ": "JWT"}, validClaims(now), active.Private), "invalid token"},
		{"empty string", "", "invalid token"},
		{"garbage", "garbage", "invalid token"},
		{"three empty segments", "..", "invalid token"},
		{"garbage segments", "a.b.c", "invalid token"},
		{"too many segments", valid + ".x", "invalid token"},
		{"oversized", strings.Repeat("a", 10000), "invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := v.Verify(t.Context(), tt.token)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Subject != "user-1" {
					t.Fatalf("subject %q", c.Subject)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", c)
			}
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *errs.Error", err)
			}
			if diff := cmp.Diff(tt.wantMsg, e.Message); diff != "" || e.Kind != errs.Unauthenticated {
				t.Errorf("kind %v, message (-want +got):\n%s\nerror: %v", e.Kind, diff, err)
			}
		})
	}
}

func TestSignVerifyClaims(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	clk := newClock()
	s := &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience, Now: clk.Now}
	tok, exp, err := s.Sign("user-7", []string{"customer", "staff"}, "fam-1")
	if err != nil {
		t.Fatal(err)
	}
	iat := clk.Now().Truncate(time.Second)
	if !exp.Equal(iat.Add(DefaultAccessTTL)) {
		t.Errorf("expires %v, want %v", exp, iat.Add(DefaultAccessTTL))
	}
	c, err := mustStaticVerifier(t, ks, WithClock(clk.Now)).Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	want := &Claims{
		Issuer: testIssuer, Audience: []string{testAudience}, Subject: "user-7",
		Roles: []string{"customer", "staff"}, SessionID: "fam-1", ID: c.ID,
		IssuedAt: iat, NotBefore: iat, ExpiresAt: exp, KeyID: ks.Active().ID,
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if len(c.ID) < 16 {
		t.Errorf("jti %q is too short", c.ID)
	}

	// The header names the key, the algorithm and the token type.
	raw, _ := b64.DecodeString(strings.Split(tok, ".")[0])
	var hdr map[string]any
	if err := json.Unmarshal(raw, &hdr); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"alg": "EdDSA", "kid": ks.Active().ID, "typ": "at+jwt"}, hdr); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}

	// A token without roles carries an empty list, not null.
	tok, _, err = s.Sign("user-8", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = b64.DecodeString(strings.Split(tok, ".")[1])
	if !strings.Contains(string(raw), `"roles":[]`) || strings.Contains(string(raw), `"sid"`) {
		t.Errorf("payload %s", raw)
	}
}

func TestSignRefuses(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	tests := []struct {
		name   string
		signer *Signer
		sub    string
		roles  []string
	}{
		{"no keys", &Signer{Issuer: testIssuer, Audience: testAudience}, "u", nil},
		{"no issuer", &Signer{Keys: ks, Audience: testAudience}, "u", nil},
		{"no audience", &Signer{Keys: ks, Issuer: testIssuer}, "u", nil},
		{"empty subject", &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}, "", nil},
		{"service role", &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}, "u", []string{"service"}},
		{"unknown role", &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}, "u", []string{"customer", "god"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tok, _, err := tt.signer.Sign(tt.sub, tt.roles, "s"); err == nil {
				t.Errorf("Sign gave %q, want an error", tok)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	s := &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}
	v := mustStaticVerifier(t, ks)
	var _ authz.Authenticator = v
	valid := mustSign(t, s, "user-1", []string{"staff"}, "sid")

	tests := []struct {
		name     string
		header   string
		want     *authz.Principal
		wantKind errs.Kind // meaningful when wantErr
		wantErr  bool
	}{
		{"no header", "", nil, 0, false},
		{"valid bearer", "Bearer " + valid, &authz.Principal{Subject: "user-1", Roles: []string{"staff"}}, 0, false},
		{"lower-case scheme", "bearer " + valid, &authz.Principal{Subject: "user-1", Roles: []string{"staff"}}, 0, false},
		{"basic auth", "Basic dXNlcjpwYXNz", nil, errs.Unauthenticated, true},
		{"bearer without token", "Bearer ", nil, errs.Unauthenticated, true},
		{"bearer garbage", "Bearer nope", nil, errs.Unauthenticated, true},
		{"tampered", "Bearer " + resegment(t, valid, 1, func(m map[string]any) { m["roles"] = []string{"admin"} }), nil, errs.Unauthenticated, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.header != "" {
				h.Set("Authorization", tt.header)
			}
			p, err := v.Authenticate(t.Context(), h)
			if tt.wantErr {
				if err == nil || errs.KindOf(err) != tt.wantKind {
					t.Fatalf("Authenticate = %v, %v; want kind %v", p, err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSessionCheck(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	s := &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}
	r := &Refresher{Store: NewMemoryStore()}
	_, fam, err := r.Issue(t.Context(), "user-1")
	if err != nil {
		t.Fatal(err)
	}
	v := mustStaticVerifier(t, ks, WithSessionCheck(r.FamilyActive))
	tok := mustSign(t, s, "user-1", []string{"customer"}, fam)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("before logout: %v", err)
	}
	if err := r.RevokeFamily(t.Context(), fam); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(t.Context(), tok)
	if errs.KindOf(err) != errs.Unauthenticated {
		t.Fatalf("after logout: %v, want Unauthenticated", err)
	}
}

func jwksOf(t testing.TB, h http.Handler) (kids []string, etag string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("JWKS status %d", rec.Code)
	}
	var set JWKSet
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids, rec.Header().Get("ETag")
}

func TestRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := mustKey(t), mustKey(t)
	ks, err := NewKeySet(k1)
	if err != nil {
		t.Fatal(err)
	}
	s := &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}
	v := mustStaticVerifier(t, ks)
	h := JWKSHandler(ks)
	ctx := t.Context()

	old := mustSign(t, s, "user-1", []string{"customer"}, "sid")
	kids, etag1 := jwksOf(t, h)
	if diff := cmp.Diff([]string{k1.ID}, kids); diff != "" {
		t.Errorf("JWKS before rotation (-want +got):\n%s", diff)
	}

	if err := ks.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, old); err != nil {
		t.Errorf("token signed before Rotate: %v", err)
	}
	fresh := mustSign(t, s, "user-1", []string{"customer"}, "sid")
	c, err := v.Verify(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyID != k2.ID {
		t.Errorf("new token signed by %s, want %s", c.KeyID, k2.ID)
	}
	kids, etag2 := jwksOf(t, h)
	if diff := cmp.Diff([]string{k2.ID, k1.ID}, kids); diff != "" {
		t.Errorf("JWKS after rotation (-want +got):\n%s", diff)
	}
	if etag1 == etag2 {
		t.Error("ETag did not change with the key set")
	}

	if err := ks.Retire(k2.ID); errs.KindOf(err) != errs.FailedPrecondition {
		t.Errorf("Retire(active) = %v, want FailedPrecondition", err)
	}
	if err := ks.Retire("nope"); errs.KindOf(err) != errs.NotFound {
		t.Errorf("Retire(unknown) = %v, want NotFound", err)
	}
	if err := ks.Retire(k1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, old); errs.KindOf(err) != errs.Unauthenticated {
		t.Errorf("token of a retired key: %v, want Unauthenticated", err)
	}
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Errorf("token of the active key after Retire: %v", err)
	}
	kids, _ = jwksOf(t, h)
	if diff := cmp.Diff([]string{k2.ID}, kids); diff != "" {
		t.Errorf("JWKS after Retire (-want +got):\n%s", diff)
	}
}

func TestRetireInactiveSince(t *testing.T) {
	t.Parallel()
	k1, k2, k3, next := mustKey(t), mustKey(t), mustKey(t), mustKey(t)
	ks, err := NewKeySet(k1)
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Rotate(k2); err != nil { // k1 deactivated now
		t.Fatal(err)
	}
	if err := ks.Rotate(k3); err != nil { // k2 deactivated now
		t.Fatal(err)
	}
	if err := ks.Add(next); err != nil { // published, never active
		t.Fatal(err)
	}
	if err := ks.Add(next); errs.KindOf(err) != errs.Conflict {
		t.Errorf("Add twice = %v, want Conflict", err)
	}
	retired, err := ks.RetireInactiveSince(time.Now().Add(-time.Hour))
	if err != nil || len(retired) != 0 {
		t.Fatalf("cutoff an hour ago retired %v, %v", retired, err)
	}
	retired, err = ks.RetireInactiveSince(time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{k1.ID, k2.ID}, retired, cmpSorted); diff != "" {
		t.Errorf("retired (-want +got):\n%s", diff)
	}
	var ids []string
	for _, k := range ks.Keys() {
		ids = append(ids, k.ID)
	}
	if diff := cmp.Diff([]string{k3.ID, next.ID}, ids); diff != "" {
		t.Errorf("keys left (-want +got):\n%s", diff)
	}
	// Rotating to a key published earlier activates it.
	if err := ks.Rotate(next); err != nil {
		t.Fatal(err)
	}
	if ks.Active().ID != next.ID {
		t.Errorf("active %s, want %s", ks.Active().ID, next.ID)
	}
}

var cmpSorted = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestJWKSHandler(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	h := JWKSHandler(ks)
	k := ks.Active()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	var doc map[string][]map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string][]map[string]string{"keys": {{
		"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(k.Public),
		"kid": Thumbprint(k.Public), "alg": "EdDSA", "use": "sig",
	}}}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("JWKS (-want +got):\n%s", diff)
	}
	if strings.Contains(rec.Body.String(), `"d"`) {
		t.Error("JWKS leaks a private key")
	}
	got := map[string]string{
		"Cache-Control": rec.Header().Get("Cache-Control"),
		"Content-Type":  rec.Header().Get("Content-Type"),
	}
	if diff := cmp.Diff(map[string]string{"Cache-Control": "public, max-age=300", "Content-Type": "application/json"}, got); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	etag := rec.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q", etag)
	}

	tests := []struct {
		name       string
		method     string
		ifNoneMach string
		wantCode   int
	}{
		{"matching ETag", http.MethodGet, etag, http.StatusNotModified},
		{"weak matching ETag in a list", http.MethodGet, `"x", W/` + etag, http.StatusNotModified},
		{"stale ETag", http.MethodGet, `"old"`, http.StatusOK},
		{"HEAD", http.MethodHead, "", http.StatusOK},
		{"POST", http.MethodPost, "", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, "/.well-known/jwks.json", nil)
			if tt.ifNoneMach != "" {
				req.Header.Set("If-None-Match", tt.ifNoneMach)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Errorf("status %d, want %d", rec.Code, tt.wantCode)
			}
		})
	}
}

// jwksServer serves ks's JWKS and counts the requests; fail makes it answer
// 500.
type jwksServer struct {
	*httptest.Server
	requests    atomic.Int64
	notModified atomic.Int64
	fail        atomic.Bool
}

func newJWKSServer(t testing.TB, ks *KeySet) *jwksServer {
	s := &jwksServer{}
	h := JWKSHandler(ks)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if s.fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		if r.Header.Get("If-None-Match") != "" {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code == http.StatusNotModified {
				s.notModified.Add(1)
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestRemoteVerifier(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	k1, k2 := mustKey(t), mustKey(t)
	ks, err := NewKeySet(k1)
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t, ks)
	clk := newClock()
	s := &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience, Now: clk.Now}
	v, err := NewVerifier(srv.URL+"/.well-known/jwks.json", testIssuer, testAudience, WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	wantRequests := func(step string, n int64) {
		t.Helper()
		if got := srv.requests.Load(); got != n {
			t.Fatalf("%s: %d JWKS requests, want %d", step, got, n)
		}
	}

	t1 := mustSign(t, s, "user-1", []string{"customer"}, "sid")
	if _, err := v.Verify(ctx, t1); err != nil {
		t.Fatalf("first token: %v", err)
	}
	wantRequests("first verify fetches", 1)
	for range 10 {
		if _, err := v.Verify(ctx, t1); err != nil {
			t.Fatal(err)
		}
	}
	wantRequests("cached keys are reused", 1)

	// A new kid makes the verifier refetch (once the minimum interval since
	// the last fetch has passed).
	clk.Advance(DefaultMinFetchInterval)
	if err := ks.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	t2 := mustSign(t, s, "user-1", []string{"customer"}, "sid")
	if _, err := v.Verify(ctx, t2); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	wantRequests("unknown kid refetches", 2)
	if _, err := v.Verify(ctx, t1); err != nil {
		t.Fatalf("token of the old key after rotation: %v", err)
	}

	// A flood of bogus kids: rejected, and at most one fetch per interval.
	bogus := func() string {
		k := mustKey(t)
		return craft(t, jwt.SigningMethodEdDSA, map[string]any{"kid": k.ID, "typ": "at+jwt"}, validClaims(clk.Now()), k.Private)
	}
	flood := func() {
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				for range 25 {
					if _, err := v.Verify(ctx, bogus()); errs.KindOf(err) != errs.Unauthenticated {
						t.Errorf("bogus kid: %v, want Unauthenticated", err)
					}
				}
			})
		}
		wg.Wait()
	}
	flood()
	wantRequests("bogus kids right after a fetch", 2)
	clk.Advance(DefaultMinFetchInterval)
	flood()
	wantRequests("bogus kids after the interval", 3)

	// Stale keys are refreshed (a 304 thanks to the ETag); a failing JWKS
	// endpoint leaves the cached keys in use.
	clk.Advance(DefaultRefreshInterval)
	if _, err := v.Verify(ctx, t2); err != nil {
		t.Fatal(err)
	}
	wantRequests("stale keys refresh", 4)
	if srv.notModified.Load() < 1 {
		t.Error("refresh of an unchanged JWKS was not answered 304")
	}
	srv.fail.Store(true)
	clk.Advance(DefaultRefreshInterval)
	if _, err := v.Verify(ctx, t2); err != nil {
		t.Fatalf("with the JWKS endpoint down: %v", err)
	}
	wantRequests("refresh attempted while down", 5)
	srv.fail.Store(false)

	// A retired key disappears from verifiers at their next refresh.
	if err := ks.Retire(k1.ID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultRefreshInterval)
	if _, err := v.Verify(ctx, t1); errs.KindOf(err) != errs.Unauthenticated {
		t.Errorf("token of a retired key: %v, want Unauthenticated", err)
	}
	if _, err := v.Verify(ctx, t2); err != nil {
		t.Errorf("token of the active key: %v", err)
	}
}

func TestRemoteVerifierUnavailable(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	srv := newJWKSServer(t, ks)
	srv.fail.Store(true)
	v, err := NewVerifier(srv.URL, testIssuer, testAudience)
	if err != nil {
		t.Fatal(err)
	}
	tok := mustSign(t, &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}, "u", nil, "")
	if _, err := v.Verify(t.Context(), tok); errs.KindOf(err) != errs.Unavailable {
		t.Errorf("Verify with no JWKS = %v, want Unavailable", err)
	}
	if err := v.Refresh(t.Context()); err == nil {
		t.Error("Refresh of a failing endpoint succeeded")
	}
	srv.fail.Store(false)
	if err := v.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Errorf("after Refresh: %v", err)
	}

	for _, u := range []string{"", "jwks.json", "ftp://x/jwks.json", "http://"} {
		if _, err := NewVerifier(u, testIssuer, testAudience); err == nil {
			t.Errorf("NewVerifier(%q) succeeded", u)
		}
	}
	if _, err := NewStaticVerifier(ks, "", testAudience); err == nil {
		t.Error("NewStaticVerifier without issuer succeeded")
	}
}

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	k := mustKey(t)
	good := publicJWK(k.ID, k.Public)
	tests := []struct {
		name    string
		keys    []JWK
		want    []string
		wantErr bool
	}{
		{"one key", []JWK{good}, []string{k.ID}, false},
		{"foreign keys skipped", []JWK{{Kty: "RSA", Kid: "r"}, {Kty: "OKP", Crv: "X25519", X: good.X, Kid: "x"}, good}, []string{k.ID}, false},
		{"wrong alg skipped", []JWK{{Kty: "OKP", Crv: "Ed25519", X: good.X, Kid: "a", Alg: "HS256"}}, nil, true},
		{"encryption key skipped", []JWK{{Kty: "OKP", Crv: "Ed25519", X: good.X, Kid: "e", Use: "enc"}}, nil, true},
		{"short x", []JWK{{Kty: "OKP", Crv: "Ed25519", X: "AAAA", Kid: "s"}}, nil, true},
		{"no kid", []JWK{{Kty: "OKP", Crv: "Ed25519", X: good.X}}, nil, true},
		{"empty", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, _ := json.Marshal(JWKSet{Keys: tt.keys})
			keys, err := ParseJWKS(data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseJWKS: %v, wantErr %v", err, tt.wantErr)
			}
			var got []string
			for kid := range keys {
				got = append(got, kid)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("kids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestThumbprintRFC8037(t *testing.T) {
	t.Parallel()
	// RFC 8037 appendix A.3: the thumbprint of the key of A.2.
	x, err := b64.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", Thumbprint(ed25519.PublicKey(x))); diff != "" {
		t.Error(diff)
	}
}

func TestClaimsContext(t *testing.T) {
	t.Parallel()
	if c := ClaimsFromContext(context.Background()); c != nil {
		t.Errorf("empty context gave %+v", c)
	}
	want := &Claims{Subject: "u", SessionID: "s"}
	if diff := cmp.Diff(want, ClaimsFromContext(NewContext(context.Background(), want))); diff != "" {
		t.Error(diff)
	}
}

func BenchmarkSign(b *testing.B) {
	s := &Signer{Keys: mustKeySet(b), Issuer: testIssuer, Audience: testAudience}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Sign("user-1", []string{"customer"}, "sid"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	ks := mustKeySet(b)
	tok := mustSign(b, &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}, "user-1", []string{"customer"}, "sid")
	v := mustStaticVerifier(b, ks)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRemoteParallel(b *testing.B) {
	ks := mustKeySet(b)
	tok := mustSign(b, &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}, "user-1", []string{"customer"}, "sid")
	srv := newJWKSServer(b, ks)
	v, err := NewVerifier(srv.URL, testIssuer, testAudience)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestCachedVerifier(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	clk := newClock()
	ended := map[string]bool{}
	v := mustStaticVerifier(t, ks, WithCache(100), WithClock(clk.Now),
		WithSessionCheck(func(_ context.Context, sid string) bool { return !ended[sid] }))
	signer := &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience, TTL: 15 * time.Minute, Now: clk.Now}
	tok := mustSign(t, signer, "user-1", []string{"customer"}, "sid-1")
	for i := range 2 { // the second call is served from the cache
		if c, err := v.Verify(t.Context(), tok); err != nil || c.Subject != "user-1" {
			t.Fatalf("call %d: %v, %v", i, c, err)
		}
	}
	// A tampered copy of a cached token is a different string: verified, refused.
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"customer"`), []byte(`"admin"`), 1)) + "." + parts[2]
	if _, err := v.Verify(t.Context(), forged); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("forged roles next to a cached token: %v, want unauthenticated", err)
	}
	// The session check still runs on a cache hit.
	ended["sid-1"] = true
	if _, err := v.Verify(t.Context(), tok); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("cached token of an ended session: %v, want unauthenticated", err)
	}
	ended["sid-1"] = false
	// A cached token still expires.
	clk.Advance(16 * time.Minute)
	if _, err := v.Verify(t.Context(), tok); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("cached token after expiry: %v, want unauthenticated", err)
	}
}

// A service may start before the edge: until its first JWKS fetch works it
// retries after 200 ms, not after the minimum fetch interval.
func TestRemoteVerifierRetriesSoonUntilFirstFetch(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	srv := newJWKSServer(t, ks)
	srv.fail.Store(true)
	clk := newClock()
	v, err := NewVerifier(srv.URL, testIssuer, testAudience, WithClock(clk.Now), WithMinFetchInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tok := mustSign(t, &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience, Now: clk.Now}, "u", nil, "")
	if _, err := v.Verify(t.Context(), tok); errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("Verify before the edge is up = %v, want Unavailable", err)
	}
	srv.fail.Store(false) // the edge comes up
	clk.Advance(300 * time.Millisecond)
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Errorf("Verify 300 ms later = %v, want success without waiting the hour", err)
	}
}
