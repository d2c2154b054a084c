package user

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/authz"
)

// TestPassword is the password of accounts InsertUser makes.
const TestPassword = "plum-orchard-lantern-42"

var testHash = sync.OnceValue(func() string {
	return encodeHash(TestPassword, defaultParams, []byte("0123456789abcdef"))
})

// InsertUser stores an active customer directly, with a precomputed hash,
// for tests that need more accounts than hashing each would allow. It
// returns the account id.
func InsertUser(t testing.TB, s *Service, email, displayName string, created time.Time) string {
	t.Helper()
	u := &userRow{
		ID: newID(), Email: email, PasswordHash: testHash(), DisplayName: displayName,
		Roles: []string{authz.RoleCustomer}, Status: statusActive,
		CreatedAt: micros(created), UpdatedAt: micros(created),
	}
	if err := s.store.insertUser(context.Background(), s.store.db, u); err != nil {
		t.Fatalf("insert user %s: %v", email, err)
	}
	return u.ID
}
