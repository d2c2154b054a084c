// Package testkit holds the small helpers every test package needs: the
// Connect code of an error, the fields its violations name, a logger that
// writes into the test's log, a buffer safe for concurrent writers, and the
// test tokens that stand for signed-in callers. It knows no business, so
// any test may use it.
package testkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"

	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/logx"
)

// Code is the Connect code of err (CodeUnknown for a non-Connect error, 0
// for nil).
func Code(err error) connect.Code { return connect.CodeOf(err) }

// ViolationFields are the field paths ("items.quantity") that err's
// protovalidate violations name, in order.
func ViolationFields(err error) []string {
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		return nil
	}
	var fields []string
	for _, d := range cerr.Details() {
		msg, derr := d.Value()
		if derr != nil {
			continue
		}
		if v, ok := msg.(*validate.Violations); ok {
			for _, vi := range v.GetViolations() {
				var path []string
				for _, el := range vi.GetField().GetElements() {
					path = append(path, el.GetFieldName())
				}
				fields = append(fields, strings.Join(path, "."))
			}
		}
	}
	return fields
}

// Logger logs at level and above into t's log (t.Output), so a failing
// test shows what the services said and a passing one stays quiet.
func Logger(t testing.TB, level string) *slog.Logger {
	t.Helper()
	log, err := logx.New(t.Output(), level)
	if err != nil {
		t.Fatal(err)
	}
	return log
}

// SyncBuffer collects output from concurrent writers (a server's log, a
// command's output) for a test to read.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The test tokens. Tokens authenticates them.
const (
	ServiceToken = "service-token" // another Emporium service (the internal credential)
	StaffToken   = "staff-token"   // staff member "staff-1"
	AdminToken   = "admin-token"   // admin "admin-1"
)

// Customer is the token of shopper "user-N".
func Customer(n int) string { return fmt.Sprintf("cust-%d", n) }

// User is the token of the shopper with the given account id, for tests
// that register real accounts.
func User(id string) string { return "user:" + id }

// Tokens is an authz.Authenticator for the test tokens: ServiceToken,
// StaffToken, AdminToken, Customer(n) and User(id). Any other bearer token
// is refused; no token is an anonymous caller.
type Tokens struct{}

var _ authz.Authenticator = Tokens{}

// Authenticate implements authz.Authenticator.
func (Tokens) Authenticate(_ context.Context, h http.Header) (*authz.Principal, error) {
	tok, ok, err := authz.BearerToken(h)
	if !ok || err != nil {
		return nil, err
	}
	switch {
	case tok == ServiceToken:
		return &authz.Principal{Subject: "emporium-internal", Roles: []string{authz.RoleService}}, nil
	case tok == StaffToken:
		return &authz.Principal{Subject: "staff-1", Roles: []string{authz.RoleStaff}}, nil
	case tok == AdminToken:
		return &authz.Principal{Subject: "admin-1", Roles: []string{authz.RoleAdmin}}, nil
	}
	if n, ok := strings.CutPrefix(tok, "cust-"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		return &authz.Principal{Subject: "user-" + n, Roles: []string{authz.RoleCustomer}}, nil
	}
	if id, ok := strings.CutPrefix(tok, "user:"); ok && id != "" {
		return &authz.Principal{Subject: id, Roles: []string{authz.RoleCustomer}}, nil
	}
	return nil, errs.Unauthenticatedf("invalid bearer token")
}
