package token

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// storeKind is one Store implementation under the contract suite.
type storeKind struct {
	name string
	open func(t testing.TB) Store
	// dump returns every stored key and value, to check that no raw token
	// is ever stored.
	dump func(t testing.TB, s Store) []string
}

// redisPrefixes remembers each Redis store's prefix, for dump.
var redisPrefixes sync.Map // Store → prefix

var storeKinds = []storeKind{
	{
		name: "memory",
		open: func(testing.TB) Store { return NewMemoryStore() },
		dump: func(_ testing.TB, s Store) []string {
			m := s.(*memoryStore)
			m.mu.Lock()
			defer m.mu.Unlock()
			var out []string
			for h, t := range m.tokens {
				out = append(out, h, t.rec.UserID, t.rec.FamilyID)
			}
			for id, f := range m.families {
				out = append(out, id, f.userID)
			}
			for u, fams := range m.users {
				out = append(out, u)
				for id := range fams {
					out = append(out, id)
				}
			}
			return out
		},
	},
	{
		name: "redis",
		open: func(t testing.TB) Store {
			c := testRedis(t)
			prefix := testPrefix(t, c)
			s := NewRedisStore(c, prefix)
			redisPrefixes.Store(s, prefix)
			return s
		},
		dump: func(t testing.TB, s Store) []string {
			p, _ := redisPrefixes.Load(s)
			c := testRedis(t)
			ctx := context.Background()
			var out []string
			for _, k := range scanKeys(t, c, p.(string)) {
				out = append(out, k)
				typ, err := c.Do(ctx, c.B().Type().Key(k).Build()).ToString()
				if err != nil {
					t.Fatal(err)
				}
				switch typ {
				case "hash":
					m, err := c.Do(ctx, c.B().Hgetall().Key(k).Build()).AsStrMap()
					if err != nil {
						t.Fatal(err)
					}
					for f, v := range m {
						out = append(out, f, v)
					}
				case "set":
					m, err := c.Do(ctx, c.B().Smembers().Key(k).Build()).AsStrSlice()
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, m...)
				default:
					t.Fatalf("unexpected %s key %s", typ, k)
				}
				// Every key expires: nothing outlives its tokens.
				if ttl, err := c.Do(ctx, c.B().Pttl().Key(k).Build()).AsInt64(); err != nil || ttl <= 0 {
					t.Errorf("key %s has PTTL %d (%v): it never expires", k, ttl, err)
				}
			}
			return out
		},
	},
}

func newRefresher(t testing.TB, k storeKind) (*Refresher, *clock) {
	clk := newClock()
	return &Refresher{Store: k.open(t), Now: clk.Now}, clk
}

// wantRefreshErr checks err is Unauthenticated, matches sentinel and has
// the message msg.
func wantRefreshErr(t testing.TB, err, sentinel error, msg string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want an Unauthenticated %q", err, msg)
	}
	got := struct {
		Kind     errs.Kind
		Message  string
		Sentinel bool
	}{e.Kind, e.Message, errors.Is(err, sentinel)}
	want := struct {
		Kind     errs.Kind
		Message  string
		Sentinel bool
	}{errs.Unauthenticated, msg, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error %v (-want +got):\n%s", err, diff)
	}
}

const (
	msgReuse   = "refresh token reuse detected; signed out everywhere in this session"
	msgRevoked = "session ended: sign in again"
	msgExpired = "refresh token expired: sign in again"
	msgInvalid = "invalid refresh token"
)

func TestRefreshStores(t *testing.T) {
	t.Parallel()
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range refreshContract {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, k)
				})
			}
		})
	}
}

var refreshContract = []struct {
	name string
	run  func(t *testing.T, k storeKind)
}{
	{"rotation and reuse", func(t *testing.T, k storeKind) {
		r, clk := newRefresher(t, k)
		ctx := t.Context()
		raw1, fam, err := r.Issue(ctx, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(raw1) != 43 || fam == "" {
			t.Fatalf("Issue gave %q, %q", raw1, fam)
		}
		if !r.FamilyActive(ctx, fam) {
			t.Fatal("new family not active")
		}
		issued := clk.Now()
		clk.Advance(time.Minute)
		raw2, info, err := r.Refresh(ctx, raw1)
		if err != nil {
			t.Fatal(err)
		}
		want := RefreshInfo{UserID: "user-1", FamilyID: fam, ExpiresAt: clk.Now().Add(DefaultRefreshTTL).Truncate(time.Millisecond),
			SessionStart: issued.Truncate(time.Millisecond)}
		if diff := cmp.Diff(want, info); diff != "" {
			t.Errorf("Refresh info (-want +got):\n%s", diff)
		}
		if raw2 == raw1 {
			t.Fatal("Refresh returned the same token")
		}
		raw3, _, err := r.Refresh(ctx, raw2)
		if err != nil {
			t.Fatalf("second rotation: %v", err)
		}
		// The old token again: reuse, the family dies.
		_, _, err = r.Refresh(ctx, raw1)
		wantRefreshErr(t, err, ErrRefreshReused, msgReuse)
		if r.FamilyActive(ctx, fam) {
			t.Error("family still active after reuse")
		}
		_, _, err = r.Refresh(ctx, raw3)
		wantRefreshErr(t, err, ErrRefreshRevoked, msgRevoked)
		_, _, err = r.Refresh(ctx, raw2)
		wantRefreshErr(t, err, ErrRefreshReused, msgReuse)
	}},
	{"reuse ends only its own family", func(t *testing.T, k storeKind) {
		r, _ := newRefresher(t, k)
		ctx := t.Context()
		a, _, err := r.Issue(ctx, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		b, famB, err := r.Issue(ctx, "user-1") // the same user on another device
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Refresh(ctx, a); err != nil {
			t.Fatal(err)
		}
		_, _, err = r.Refresh(ctx, a)
		wantRefreshErr(t, err, ErrRefreshReused, msgReuse)
		if !r.FamilyActive(ctx, famB) {
			t.Error("the other device's session ended")
		}
		if _, _, err := r.Refresh(ctx, b); err != nil {
			t.Errorf("the other device's token: %v", err)
		}
	}},
	{"logout revokes the family", func(t *testing.T, k storeKind) {
		r, _ := newRefresher(t, k)
		ctx := t.Context()
		raw, fam, err := r.Issue(ctx, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := r.Issue(ctx, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		raw2, _, err := r.Refresh(ctx, raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Revoke(ctx, raw2); err != nil {
			t.Fatal(err)
		}
		if r.FamilyActive(ctx, fam) {
			t.Error("family active after logout")
		}
		_, _, err = r.Refresh(ctx, raw2)
		wantRefreshErr(t, err, ErrRefreshRevoked, msgRevoked)
		if err := r.Revoke(ctx, raw2); err != nil {
			t.Errorf("second logout: %v", err)
		}
		for _, junk := range []string{"", "junk", strings.Repeat("A", 43)} {
			if err := r.Revoke(ctx, junk); err != nil {
				t.Errorf("Revoke(%q): %v", junk, err)
			}
		}
		if _, _, err := r.Refresh(ctx, other); err != nil {
			t.Errorf("another session of the user: %v", err)
		}
	}},
	{"RevokeUser ends every family of the user only", func(t *testing.T, k storeKind) {
		r, _ := newRefresher(t, k)
		ctx := t.Context()
		var mine []string
		var myFams []string
		for range 3 {
			raw, fam, err := r.Issue(ctx, "user-1")
			if err != nil {
				t.Fatal(err)
			}
			mine, myFams = append(mine, raw), append(myFams, fam)
		}
		if raw, _, err := r.Refresh(ctx, mine[0]); err != nil { // rotated families too
			t.Fatal(err)
		} else {
			mine[0] = raw
		}
		theirs, theirFam, err := r.Issue(ctx, "user-2")
		if err != nil {
			t.Fatal(err)
		}
		if err := r.RevokeUser(ctx, "user-1"); err != nil {
			t.Fatal(err)
		}
		for i, raw := range mine {
			_, _, err := r.Refresh(ctx, raw)
			wantRefreshErr(t, err, ErrRefreshRevoked, msgRevoked)
			if r.FamilyActive(ctx, myFams[i]) {
				t.Errorf("family %d active after RevokeUser", i)
			}
		}
		if !r.FamilyActive(ctx, theirFam) {
			t.Error("another user's family ended")
		}
		if _, _, err := r.Refresh(ctx, theirs); err != nil {
			t.Errorf("another user's token: %v", err)
		}
		// Signing in again after "logout everywhere" works.
		again, _, err := r.Issue(ctx, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Refresh(ctx, again); err != nil {
			t.Errorf("new session after RevokeUser: %v", err)
		}
		if err := r.RevokeUser(ctx, "nobody"); err != nil {
			t.Errorf("RevokeUser of a user without sessions: %v", err)
		}
	}},
	{"expired token rejected", func(t *testing.T, k storeKind) {
		r, clk := newRefresher(t, k)
		r.TTL = time.Hour
		ctx := t.Context()
		raw, fam, err := r.Issue(ctx, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(59 * time.Minute)
		raw, _, err = r.Refresh(ctx, raw) // a rotation starts a new hour
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(59 * time.Minute)
		if !r.FamilyActive(ctx, fam) {
			t.Error("family inactive before its newest token expired")
		}
		clk.Advance(time.Minute)
		_, _, err = r.Refresh(ctx, raw)
		wantRefreshErr(t, err, ErrRefreshExpired, msgExpired)
		if r.FamilyActive(ctx, fam) {
			t.Error("family active after its newest token expired")
		}
	}},
	{"malformed and unknown tokens", func(t *testing.T, k storeKind) {
		r, _ := newRefresher(t, k)
		for _, raw := range []string{"", "x", strings.Repeat("A", 43), strings.Repeat("!", 43), strings.Repeat("A", 44)} {
			_, _, err := r.Refresh(t.Context(), raw)
			wantRefreshErr(t, err, ErrRefreshNotFound, msgInvalid)
		}
		if _, _, err := r.Issue(t.Context(), ""); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Issue for an empty user: %v, want Invalid", err)
		}
		if r.FamilyActive(t.Context(), "no-such-family") {
			t.Error("unknown family is active")
		}
	}},
	{"concurrent refresh: exactly one wins", func(t *testing.T, k storeKind) {
		r, _ := newRefresher(t, k)
		ctx := t.Context()
		raw, fam, err := r.Issue(ctx, "user-1")
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		var (
			wg       sync.WaitGroup
			start    = make(chan struct{})
			mu       sync.Mutex
			winners  []string
			reused   int
			failures []error
		)
		for range n {
			wg.Go(func() {
				<-start
				got, _, err := r.Refresh(ctx, raw)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winners = append(winners, got)
				case errors.Is(err, ErrRefreshReused) && errs.KindOf(err) == errs.Unauthenticated:
					reused++
				default:
					failures = append(failures, err)
				}
			})
		}
		close(start)
		wg.Wait()
		got := struct{ Winners, Reused, Failures int }{len(winners), reused, len(failures)}
		if diff := cmp.Diff(struct{ Winners, Reused, Failures int }{1, n - 1, 0}, got); diff != "" {
			t.Fatalf("outcomes (-want +got):\n%s\nfailures: %v", diff, failures)
		}
		// The losers presented a used token: the family is gone, the
		// winner's token with it.
		if r.FamilyActive(ctx, fam) {
			t.Error("family active after reuse")
		}
		_, _, err = r.Refresh(ctx, winners[0])
		wantRefreshErr(t, err, ErrRefreshRevoked, msgRevoked)
	}},
	{"raw tokens are never stored", func(t *testing.T, k storeKind) {
		r, _ := newRefresher(t, k)
		ctx := t.Context()
		var raws []string
		for _, user := range []string{"user-1", "user-2"} {
			raw, _, err := r.Issue(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			raws = append(raws, raw)
			for range 3 {
				if raw, _, err = r.Refresh(ctx, raw); err != nil {
					t.Fatal(err)
				}
				raws = append(raws, raw)
			}
		}
		if _, _, err := r.Refresh(ctx, raws[0]); !errors.Is(err, ErrRefreshReused) {
			t.Fatalf("reuse: %v", err)
		}
		if err := r.RevokeUser(ctx, "user-2"); err != nil {
			t.Fatal(err)
		}
		stored := k.dump(t, r.Store)
		if len(stored) == 0 {
			t.Fatal("the store holds nothing")
		}
		hashes := 0
		for _, s := range stored {
			for _, raw := range raws {
				if strings.Contains(s, raw) {
					t.Errorf("raw token %s… stored in %q", raw[:8], s)
				}
				if strings.Contains(s, HashRefreshToken(raw)) {
					hashes++
				}
			}
		}
		if hashes < len(raws) {
			t.Errorf("found %d token hashes in the store, want at least %d", hashes, len(raws))
		}
	}},
}

// TestRedisStoreKeyLayout pins the Redis key layout the docs describe, so
// an operator can find (and a migration can rely on) the keys.
func TestRedisStoreKeyLayout(t *testing.T) {
	t.Parallel()
	c := testRedis(t)
	prefix := testPrefix(t, c)
	r := &Refresher{Store: NewRedisStore(c, prefix)}
	raw, fam, err := r.Issue(t.Context(), "user-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		prefix + "{rt}:f:" + fam,
		prefix + "{rt}:t:" + HashRefreshToken(raw),
		prefix + "{rt}:u:user-1",
	}
	if diff := cmp.Diff(want, scanKeys(t, c, prefix), cmpSorted); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func BenchmarkRefresh(b *testing.B) {
	for _, k := range storeKinds {
		b.Run(k.name, func(b *testing.B) {
			r := &Refresher{Store: k.open(b)}
			ctx := context.Background()
			raw, _, err := r.Issue(ctx, "user-1")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if raw, _, err = r.Refresh(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
