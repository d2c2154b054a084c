package authz

import (
	"context"
	"net/http"
	"testing"

	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

func TestAllowed(t *testing.T) {
	t.Parallel()
	customer := &Principal{Subject: "c", Roles: []string{RoleCustomer}}
	staff := &Principal{Subject: "s", Roles: []string{RoleStaff}}
	admin := &Principal{Subject: "a", Roles: []string{RoleAdmin}}
	service := &Principal{Subject: "order", Roles: []string{RoleService}}
	const (
		ok     = -1
		unauth = errs.Unauthenticated
		deny   = errs.PermissionDenied
	)
	tests := []struct {
		rule authv1.Access
		p    *Principal
		want errs.Kind
	}{
		{authv1.Access_ACCESS_PUBLIC, nil, ok},
		{authv1.Access_ACCESS_UNSPECIFIED, admin, deny},
		{authv1.Access_ACCESS_CUSTOMER, nil, unauth},
		{authv1.Access_ACCESS_CUSTOMER, customer, ok},
		{authv1.Access_ACCESS_CUSTOMER, staff, ok},
		{authv1.Access_ACCESS_STAFF, customer, deny},
		{authv1.Access_ACCESS_STAFF, staff, ok},
		{authv1.Access_ACCESS_STAFF, admin, ok},
		{authv1.Access_ACCESS_ADMIN, staff, deny},
		{authv1.Access_ACCESS_ADMIN, admin, ok},
		{authv1.Access_ACCESS_INTERNAL, admin, deny},
		{authv1.Access_ACCESS_INTERNAL, service, ok},
	}
	for _, tt := range tests {
		err := Allowed(tt.rule, tt.p)
		switch {
		case tt.want == ok && err != nil:
			t.Errorf("Allowed(%v, %v) = %v, want nil", tt.rule, tt.p, err)
		case tt.want != ok && !errs.Is(err, tt.want):
			t.Errorf("Allowed(%v, %v) = %v, want kind %v", tt.rule, tt.p, err, tt.want)
		}
	}
}

func TestStaticTokens(t *testing.T) {
	t.Parallel()
	staff := &Principal{Subject: "s", Roles: []string{RoleStaff}}
	auth := NewStaticTokens(map[string]*Principal{"right-token": staff, "": {Subject: "empty"}})
	tests := []struct {
		header string
		want   *Principal
		kind   errs.Kind
	}{
		{"", nil, -1},
		{"Bearer right-token", staff, -1},
		{"bearer right-token", staff, -1},
		{"Bearer wrong-token", nil, errs.Unauthenticated},
		{"Bearer ", nil, errs.Unauthenticated},
		{"Basic dXNlcjpwYXNz", nil, errs.Unauthenticated},
		{"right-token", nil, errs.Unauthenticated},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Authorization", tt.header)
		}
		got, err := auth.Authenticate(context.Background(), h)
		if got != tt.want || (tt.kind == -1) != (err == nil) || (err != nil && !errs.Is(err, tt.kind)) {
			t.Errorf("Authenticate(%q) = %v, %v; want %v, kind %v", tt.header, got, err, tt.want, tt.kind)
		}
	}
}

func TestEitherRoutesJWTsAndInternalCredential(t *testing.T) {
	t.Parallel()
	jwtUser := &Principal{Subject: "user-1", Roles: []string{RoleCustomer}}
	auth := Either(NewStaticTokens(map[string]*Principal{"a.b.c": jwtUser}), InternalCredential("internal-secret"))
	tests := []struct {
		header string
		want   string // principal subject, "" for none
		kind   errs.Kind
	}{
		{"", "", -1},
		{"Bearer a.b.c", "user-1", -1},
		{"Bearer internal-secret", "emporium-internal", -1},
		{"Bearer x.y.z", "", errs.Unauthenticated},
		{"Bearer wrong-secret", "", errs.Unauthenticated},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Authorization", tt.header)
		}
		p, err := auth.Authenticate(context.Background(), h)
		got := ""
		if p != nil {
			got = p.Subject
		}
		if got != tt.want || (tt.kind == -1) != (err == nil) || (err != nil && !errs.Is(err, tt.kind)) {
			t.Errorf("%q: principal %q, err %v; want %q, kind %v", tt.header, got, err, tt.want, tt.kind)
		}
	}
	if p, err := InternalCredential("").Authenticate(context.Background(), http.Header{"Authorization": {"Bearer "}}); p != nil || err == nil {
		t.Errorf("an empty internal secret authenticated %v", p)
	}
}
