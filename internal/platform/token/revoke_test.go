package token

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/redistest"
)

// revocationStores are the implementations the contract runs against.
func revocationStores(t *testing.T) map[string]func(t *testing.T) Revocations {
	return map[string]func(t *testing.T) Revocations{
		"memory": func(*testing.T) Revocations { return NewMemoryRevocations() },
		"redis": func(t *testing.T) Revocations {
			c := testRedis(t)
			return NewRedisRevocations(c, testPrefix(t, c))
		},
	}
}

func TestRevocations(t *testing.T) {
	t.Parallel()
	for name, open := range revocationStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			r := open(t)
			start := time.Now().Add(-time.Minute)
			early, late := newFamilyID(start), newFamilyID(start.Add(30*time.Second))
			claims := func(sub, sid string) *Claims { return &Claims{Subject: sub, SessionID: sid, IssuedAt: start} }
			check := func(what string, c *Claims, want bool) {
				t.Helper()
				got, err := r.Revoked(ctx, c)
				if err != nil || got != want {
					t.Errorf("%s: revoked = %v, %v; want %v", what, got, err, want)
				}
			}
			check("nothing revoked yet", claims("u1", early), false)

			if err := r.RevokeSession(ctx, early); err != nil {
				t.Fatal(err)
			}
			check("the signed-out session", claims("u1", early), true)
			check("another session of the same user", claims("u1", late), false)

			// Everything u2 started before the moment ends; later sessions live.
			early, late = newFamilyID(start), newFamilyID(start.Add(30*time.Second))
			if err := r.RevokeUser(ctx, "u2", start.Add(10*time.Second)); err != nil {
				t.Fatal(err)
			}
			check("u2's session from before", claims("u2", early), true)
			check("u2's session from after", claims("u2", late), false)
			check("another user", claims("u3", newFamilyID(start)), false)
			// An older moment does not bring sessions back.
			if err := r.RevokeUser(ctx, "u2", start.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			check("u2's session from before, after an older revocation", claims("u2", early), true)
			// A token without a session is dated by its issue time.
			check("u2's token without a session, issued before", claims("u2", ""), true)
		})
	}
}

func TestVerifierRefusesRevokedTokensAtOnce(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	rev := NewMemoryRevocations()
	r := &Refresher{Store: NewMemoryStore(), Revocations: rev}
	signer := &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}
	v := mustStaticVerifier(t, ks, WithCache(100), WithRevocations(rev, logx.Discard()))
	ctx := t.Context()
	raw, fam, err := r.Issue(ctx, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := r.Issue(ctx, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	tok, otherTok := mustSign(t, signer, "user-1", []string{"customer"}, fam), mustSign(t, signer, "user-1", []string{"customer"}, other)
	for i := range 2 { // the second is a cache hit
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("before sign-out, call %d: %v", i, err)
		}
	}
	if err := r.Revoke(ctx, raw); err != nil { // Logout
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("after sign-out: %v, want unauthenticated", err)
	}
	if _, err := v.Verify(ctx, otherTok); err != nil {
		t.Errorf("another session after one sign-out: %v", err)
	}
	time.Sleep(2 * time.Millisecond)                    // sessions are dated to the millisecond
	if err := r.RevokeUser(ctx, "user-1"); err != nil { // LogoutEverywhere
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, otherTok); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("after sign-out everywhere: %v, want unauthenticated", err)
	}
	time.Sleep(2 * time.Millisecond)
	_, fresh, err := r.Issue(ctx, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, mustSign(t, signer, "user-1", []string{"customer"}, fresh)); err != nil {
		t.Errorf("a session started after sign-out everywhere: %v", err)
	}
}

func TestRefreshReuseRevokesTheSessionsAccessTokens(t *testing.T) {
	t.Parallel()
	ks := mustKeySet(t)
	rev := NewMemoryRevocations()
	r := &Refresher{Store: NewMemoryStore(), Revocations: rev}
	v := mustStaticVerifier(t, ks, WithRevocations(rev, logx.Discard()))
	ctx := t.Context()
	raw, fam, err := r.Issue(ctx, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	tok := mustSign(t, &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}, "user-1", nil, fam)
	if _, _, err := r.Refresh(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Refresh(ctx, raw); err == nil {
		t.Fatal("reusing a refresh token succeeded")
	}
	if _, err := v.Verify(ctx, tok); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("access token of a session ended by reuse: %v, want unauthenticated", err)
	}
}

func TestRevocationStoreDownFailsOpen(t *testing.T) {
	t.Parallel()
	// A client of its own, closed: every call fails as in an outage.
	c := testRedis(t)
	c.Close()
	ks := mustKeySet(t)
	dead := NewRedisRevocations(c, "x:")
	v := mustStaticVerifier(t, ks, WithRevocations(dead, logx.Discard()))
	tok := mustSign(t, &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}, "user-1", nil, newFamilyID(time.Now()))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Errorf("with the revocation store down: %v, want the token accepted on its signature", err)
	}
}

// BenchmarkVerifyRevocations is what checking revocations adds to the
// verification of a signed-in request's token (served from the verifier's
// cache, as every request of a session after its first is): nothing, the
// in-memory store of dev, and the Redis store (one MGET round trip).
//
//	go test -run '^$' -bench VerifyRevocations -benchtime 2s ./internal/platform/token/
func BenchmarkVerifyRevocations(b *testing.B) {
	ks := mustKeySet(b)
	signer := &Signer{Keys: ks, Issuer: testIssuer, Audience: testAudience}
	ctx := context.Background()
	stores := []struct {
		name string
		open func(b *testing.B) Revocations
	}{
		{"none", nil},
		{"memory", func(*testing.B) Revocations { return NewMemoryRevocations() }},
		{"redis-no-client-cache", func(b *testing.B) Revocations {
			c := testRedis(b)
			return NewRedisRevocations(c, testPrefix(b, c))
		}},
		{"redis", func(b *testing.B) Revocations { // as processes open it
			return NewRedisRevocations(cachingClient(b), testPrefix(b, testRedis(b)))
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			var opts []VerifierOption
			opts = append(opts, WithCache(1000))
			if st.open != nil {
				r := st.open(b)
				// Some revocations of other sessions and users, as a live shop has.
				for i := range 100 {
					_ = r.RevokeSession(ctx, newFamilyID(time.Now()))
					_ = r.RevokeUser(ctx, "other-"+string(rune('a'+i%26)), time.Now())
				}
				opts = append(opts, WithRevocations(r, logx.Discard()))
			}
			v := mustStaticVerifier(b, ks, opts...)
			tok := mustSign(b, signer, "user-1", []string{"customer"}, newFamilyID(time.Now()))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := v.Verify(ctx, tok); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// cachingClient is a client with rueidis' client-side caching on, as the
// processes open it (redistest's clients turn it off).
func cachingClient(t testing.TB) rueidis.Client {
	t.Helper()
	testRedis(t) // skips (or fails in CI) without Redis
	u := os.Getenv("EMPORIUM_TEST_REDIS_URL")
	if u == "" {
		u = redistest.DefaultURL
	}
	opt, err := rueidis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestRedisRevocationsReachCachingClientsAtOnce(t *testing.T) {
	t.Parallel()
	writer, reader := cachingClient(t), cachingClient(t)
	prefix := testPrefix(t, testRedis(t))
	edgeA, other := NewRedisRevocations(writer, prefix), NewRedisRevocations(reader, prefix)
	ctx := t.Context()
	for i := range 40 {
		edgeB := other
		if i%2 == 1 { // odd rounds: the process that revokes checks too
			edgeB = edgeA
		}
		c := &Claims{Subject: fmt.Sprintf("u%d", i), SessionID: newFamilyID(time.Now())}
		for range 2 { // the second answer comes from B's cache
			if revoked, err := edgeB.Revoked(ctx, c); err != nil || revoked {
				t.Fatalf("before: %v, %v", revoked, err)
			}
		}
		if err := edgeA.RevokeSession(ctx, c.SessionID); err != nil {
			t.Fatal(err)
		}
		// Redis pushes the invalidation while it runs the write, before
		// the writer hears back; allow only the time it takes to arrive.
		deadline := time.Now().Add(50 * time.Millisecond)
		for {
			revoked, err := edgeB.Revoked(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if revoked {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the other client still accepts a revoked session after 50 ms", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
}
