package user

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
)

func newTestService(t *testing.T, engine string, concurrency int) *Service {
	t.Helper()
	s, err := New(Deps{
		DB: dbtest.Open(t, engine, "users", Migrations), Mail: mailbox.New(),
		PublicURL: "http://localhost:8080", Log: logx.Discard(), HashConcurrency: concurrency,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHashConcurrencyIsCapped(t *testing.T) {
	t.Parallel()
	s := newTestService(t, "sqlite", 2)
	// Twenty queued hashes on a loaded machine (the race detector, other
	// packages' tests) can outwait the production queue limit; the cap is
	// what this test checks, so the queue may be long.
	s.hasher.wait = time.Minute
	ctx := context.Background()
	InsertUser(t, s, "flood@example.com", "", time.Now())
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			pw := TestPassword
			if i%2 == 1 {
				pw = "wrong-password-" + pw
			}
			email := "flood@example.com"
			if i%5 == 0 {
				email = "nobody@example.com"
			}
			res, err := s.CheckPassword(ctx, &userv1.CheckPasswordRequest{Email: email, Password: pw})
			if err != nil {
				t.Error(err)
				return
			}
			if want := i%2 == 0 && i%5 != 0; (res.GetSubject() != nil) != want {
				t.Errorf("call %d: subject %v, want one: %v", i, res.GetSubject(), want)
			}
		})
	}
	wg.Wait()
	if peak := s.hasher.peak.Load(); peak != 2 {
		t.Errorf("at most %d hashes ran at once, want exactly 2 (the cap, reached under load)", peak)
	}
	if n := s.hasher.running.Load(); n != 0 {
		t.Errorf("%d hashes still counted as running", n)
	}

	// With every slot taken, a waiting hash gives up when its context ends.
	s.hasher.sem <- struct{}{}
	s.hasher.sem <- struct{}{}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.hasher.hash(short, "whatever-password")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("hash with all slots busy = %v after %v, want the context's deadline", err, time.Since(start))
	}
}

func TestStoredHashesArePHCArgon2id(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			s := newTestService(t, engine, 0)
			ctx := context.Background()
			if _, err := s.Register(ctx, &userv1.RegisterRequest{Email: "hash@example.com", Password: "violet-kettle-drum-7"}); err != nil {
				t.Fatal(err)
			}
			u, err := s.store.user(ctx, s.store.db, "email", "hash@example.com")
			if err != nil {
				t.Fatal(err)
			}
			const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
			if !strings.HasPrefix(u.PasswordHash, prefix) {
				t.Fatalf("stored hash %q does not start with %q", u.PasswordHash, prefix)
			}
			p, salt, key, err := parseHash(u.PasswordHash)
			if err != nil || p != defaultParams || len(salt) != 16 || len(key) != 32 {
				t.Errorf("parseHash = %+v, %d-byte salt, %d-byte key, %v", p, len(salt), len(key), err)
			}

			// A hash made with weaker, older parameters still verifies, and
			// the next successful check upgrades it to the current ones.
			old := encodeHash("violet-kettle-drum-7", argonParams{memory: 8 * 1024, time: 1, threads: 1}, []byte("saltsaltsaltsalt"))
			if _, err := s.store.updateUser(ctx, u.ID, func(u *userRow) error { u.PasswordHash = old; return nil }); err != nil {
				t.Fatal(err)
			}
			check, err := s.CheckPassword(ctx, &userv1.CheckPasswordRequest{Email: "hash@example.com", Password: "violet-kettle-drum-7"})
			if err != nil || check.GetSubject().GetUserId() != u.ID {
				t.Fatalf("CheckPassword with an old-parameter hash = %v, %v", check, err)
			}
			u, _ = s.store.user(ctx, s.store.db, "id", u.ID)
			if !strings.HasPrefix(u.PasswordHash, prefix) {
				t.Errorf("hash not upgraded after sign-in: %q", u.PasswordHash)
			}
		})
	}
}

func TestParseHashRefusesBadStrings(t *testing.T) {
	t.Parallel()
	good := encodeHash("pw", defaultParams, []byte("0123456789abcdef"))
	parts := strings.Split(good, "$")
	tests := map[string]string{
		"empty":             "",
		"bcrypt":            "$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"argon2i":           strings.Replace(good, "argon2id", "argon2i", 1),
		"old version":       strings.Replace(good, "v=19", "v=16", 1),
		"memory too large":  strings.Replace(good, "m=19456", "m=4194304", 1),
		"zero time":         strings.Replace(good, "t=2", "t=0", 1),
		"too many threads":  strings.Replace(good, "p=1", "p=255", 1),
		"missing parameter": strings.Replace(good, ",p=1", "", 1),
		"unknown parameter": strings.Replace(good, "p=1", "p=1,x=2", 1),
		"bad salt":          strings.Replace(good, parts[4], "!!!", 1),
		"short key":         strings.Replace(good, parts[5], "AAAA", 1),
		"extra field":       good + "$x",
	}
	if _, _, _, err := parseHash(good); err != nil {
		t.Fatalf("parseHash(good) = %v", err)
	}
	for name, h := range tests {
		if _, _, _, err := parseHash(h); err == nil {
			t.Errorf("%s: parseHash(%q) succeeded", name, h)
		}
	}
	ok, err := newHasher(1).verify(context.Background(), "", "")
	if ok || err != nil {
		t.Errorf("verify of an empty password against an empty hash = %v, %v; want false", ok, err)
	}
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		password, email string
		want            string // part of the message, "" when accepted
	}{
		{"violet-kettle-drum-7", "alice@example.com", ""},
		{"short-pw", "alice@example.com", "at least 12 characters"},
		{"ünïcödé-pâss", "alice@example.com", ""}, // 12 characters, more bytes
		{strings.Repeat("x", 120) + "abcdefghi", "alice@example.com", "at most 128"},
		{"Password1234", "alice@example.com", "breached"},
		{"QWERTYUIOPAS", "alice@example.com", "breached"},
		{"iloveyou1234", "alice@example.com", "breached"},
		{"alice.smith-2024", "alice.smith@example.com", "email address"},
		{"my-ALICE-garden-7", "alice+shop@example.com", "email address"},
		{"al-is-my-nickname", "al@example.com", ""}, // too short a local part to forbid
		{"zzzzzzzzzzzzzzzz", "bob@example.com", "single character"},
		{"ééééééééééééé", "bob@example.com", "single character"},
	}
	for _, tt := range tests {
		err := checkPolicy(tt.password, tt.email)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("checkPolicy(%q, %q) = %v, want accepted", tt.password, tt.email, err)
		case tt.want != "" && (!errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("checkPolicy(%q, %q) = %v, want invalid saying %q", tt.password, tt.email, err, tt.want)
		}
	}
	var short []string
	for p := range breached {
		if len([]rune(p)) < minPasswordLen {
			short = append(short, p)
		}
	}
	if diff := cmp.Diff([]string(nil), short); diff != "" || len(breached) < 200 {
		t.Errorf("breached.txt has %d entries (want ≥ 200), some shorter than the minimum: %s", len(breached), diff)
	}
}
