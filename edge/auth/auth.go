// Package auth is AuthService, served by the edge: password sign-in, token
// refresh and sign-out, and sign-in with OpenID Connect providers
// (authorization code with PKCE). It mints access tokens with token.Signer
// and keeps sessions as rotating refresh tokens (token.Refresher); accounts
// live in the user service, reached through its internal methods.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	"github.com/emporiumhq/emporium/gen/emporium/auth/v1/authv1connect"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/ratelimit"
	"github.com/emporiumhq/emporium/internal/platform/token"
)

// Deps are what AuthService needs.
type Deps struct {
	// Users reaches the user service's internal methods; it must send the
	// internal service credential (see InternalCredential).
	Users     userv1connect.UserServiceClient
	Signer    *token.Signer
	Refresher *token.Refresher
	// Limiter throttles password attempts on an account (the edge's route
	// limits throttle every sign-in of an address): strictly per account
	// and client address (AccountLimit), so that guessing from one place
	// stops soon while an attacker elsewhere cannot lock the owner out, and
	// more loosely per account from anywhere (AccountWideLimit, off when
	// zero), against guessing spread over many addresses. A nil Limiter
	// turns both off. The client address comes from ContextWithClientIP.
	Limiter          ratelimit.Limiter
	AccountLimit     ratelimit.Limit
	AccountWideLimit ratelimit.Limit
	Providers        []ProviderConfig
	Pending          PendingStore // OIDC logins under way
	Log              *slog.Logger
	Now              func() time.Time
}

// Service implements AuthService.
type Service struct {
	d         Deps
	providers map[string]*provider
}

var _ authv1connect.AuthServiceHandler = (*Service)(nil)

// ServiceNames are the services this package serves.
var ServiceNames = []string{authv1connect.AuthServiceName}

// New checks deps and returns the service. OIDC providers are discovered on
// first use, so the edge starts even while a provider is unreachable.
func New(d Deps) (*Service, error) {
	switch {
	case d.Users == nil, d.Signer == nil, d.Refresher == nil, d.Log == nil:
		return nil, errors.New("auth: Users, Signer, Refresher and Log are required")
	case len(d.Providers) > 0 && d.Pending == nil:
		return nil, errors.New("auth: OIDC providers need a Pending store")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Service{d: d, providers: map[string]*provider{}}
	for _, pc := range d.Providers {
		if err := pc.validate(); err != nil {
			return nil, err
		}
		if _, dup := s.providers[pc.ID]; dup {
			return nil, fmt.Errorf("auth: provider %q configured twice", pc.ID)
		}
		s.providers[pc.ID] = &provider{cfg: pc}
	}
	return s, nil
}

// Mount registers the handler on mux.
func (s *Service) Mount(mux *http.ServeMux, opts ...connect.HandlerOption) {
	mux.Handle(authv1connect.NewAuthServiceHandler(s, opts...))
}

type clientIPKey struct{}

// ContextWithClientIP returns ctx carrying the caller's address, which the
// edge puts there for Login's per-account-and-address limit.
func ContextWithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// Login implements AuthService.
func (s *Service) Login(ctx context.Context, req *authv1.LoginRequest) (*authv1.LoginResponse, error) {
	email := strings.ToLower(strings.TrimSpace(req.GetEmail()))
	if err := s.throttle(ctx, email); err != nil {
		return nil, err
	}
	res, err := s.d.Users.CheckPassword(ctx, &userv1.CheckPasswordRequest{Email: email, Password: req.GetPassword()})
	if err != nil {
		return nil, upstream("check password", err)
	}
	if res.GetSubject() == nil {
		return nil, errs.Unauthenticatedf("wrong email or password")
	}
	tokens, err := s.startSession(ctx, res.GetSubject())
	if err != nil {
		return nil, err
	}
	return &authv1.LoginResponse{Tokens: tokens}, nil
}

// throttle takes a token from the account's bucket for this address, then
// (only if that allowed it, so one noisy address cannot drain it) from the
// account-wide bucket. A refusal carries the refusing bucket's RateLimit-*
// and Retry-After headers, which replace the edge's per-address ones.
func (s *Service) throttle(ctx context.Context, email string) error {
	if s.d.Limiter == nil {
		return nil
	}
	type bucket struct {
		key   string
		limit ratelimit.Limit
	}
	buckets := []bucket{{"login-account:" + email + "|" + clientIP(ctx), s.d.AccountLimit}}
	if s.d.AccountWideLimit != (ratelimit.Limit{}) {
		buckets = append(buckets, bucket{"login-account-all:" + email, s.d.AccountWideLimit})
	}
	for _, b := range buckets {
		d, err := s.d.Limiter.Take(ctx, b.key, b.limit, 1)
		if err != nil || d.Allowed {
			continue // only an unguarded limiter errs: the edge's policy decides
		}
		cerr := connect.NewError(connect.CodeResourceExhausted, fmt.Errorf(
			"too many sign-in attempts for this account; try again in %d s", int(d.RetryAfter.Seconds())+1))
		ratelimit.Headers(cerr.Meta(), d)
		return cerr
	}
	return nil
}

// startSession issues a new refresh family and its first access token.
func (s *Service) startSession(ctx context.Context, sub *userv1.Subject) (*authv1.Tokens, error) {
	raw, family, err := s.d.Refresher.Issue(ctx, sub.GetUserId())
	if err != nil {
		return nil, err
	}
	return s.tokens(sub, raw, family, s.d.Now().Add(s.d.Refresher.TokenTTL()))
}

func (s *Service) tokens(sub *userv1.Subject, refresh, family string, refreshExpires time.Time) (*authv1.Tokens, error) {
	access, expires, err := s.d.Signer.Sign(sub.GetUserId(), roleNames(sub.GetRoles()), family)
	if err != nil {
		return nil, err
	}
	return &authv1.Tokens{
		AccessToken:            access,
		AccessTokenExpireTime:  timestamppb.New(expires),
		RefreshToken:           refresh,
		RefreshTokenExpireTime: timestamppb.New(refreshExpires),
		UserId:                 sub.GetUserId(),
	}, nil
}

// Refresh implements AuthService.
func (s *Service) Refresh(ctx context.Context, req *authv1.RefreshRequest) (*authv1.RefreshResponse, error) {
	raw, info, err := s.d.Refresher.Refresh(ctx, req.GetRefreshToken())
	if err != nil {
		if errors.Is(err, token.ErrRefreshReused) {
			s.d.Log.WarnContext(ctx, "refresh token reuse: session revoked", "family", info.FamilyID)
		}
		return nil, err
	}
	// Roles and status come fresh from the user service on every refresh, so
	// a disabled account or a changed password ends the session here.
	res, err := s.d.Users.GetSubject(ctx, &userv1.GetSubjectRequest{UserId: info.UserID})
	if err != nil && connect.CodeOf(err) != connect.CodeNotFound {
		return nil, upstream("get subject", err)
	}
	sub := res.GetSubject()
	switch {
	case sub == nil, sub.GetStatus() != userv1.UserStatus_USER_STATUS_ACTIVE:
		_ = s.d.Refresher.RevokeFamily(ctx, info.FamilyID)
		return nil, errs.Unauthenticatedf("this account is disabled")
	case sub.GetSessionsNotBefore() != nil && info.SessionStart.Before(sub.GetSessionsNotBefore().AsTime()):
		_ = s.d.Refresher.RevokeFamily(ctx, info.FamilyID)
		return nil, errs.Unauthenticatedf("your password changed since you signed in: sign in again")
	}
	tokens, err := s.tokens(sub, raw, info.FamilyID, info.ExpiresAt)
	if err != nil {
		return nil, err
	}
	return &authv1.RefreshResponse{Tokens: tokens}, nil
}

// Logout implements AuthService.
func (s *Service) Logout(ctx context.Context, req *authv1.LogoutRequest) (*authv1.LogoutResponse, error) {
	if err := s.d.Refresher.Revoke(ctx, req.GetRefreshToken()); err != nil {
		return nil, err
	}
	return &authv1.LogoutResponse{}, nil
}

// LogoutEverywhere implements AuthService.
func (s *Service) LogoutEverywhere(ctx context.Context, _ *authv1.LogoutEverywhereRequest) (*authv1.LogoutEverywhereResponse, error) {
	p := authz.FromContext(ctx)
	if p == nil {
		return nil, errs.Unauthenticatedf("sign in first")
	}
	if err := s.d.Refresher.RevokeUser(ctx, p.Subject); err != nil {
		return nil, err
	}
	return &authv1.LogoutEverywhereResponse{}, nil
}

func roleNames(roles []userv1.Role) []string {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		switch r {
		case userv1.Role_ROLE_CUSTOMER:
			out = append(out, authz.RoleCustomer)
		case userv1.Role_ROLE_STAFF:
			out = append(out, authz.RoleStaff)
		case userv1.Role_ROLE_ADMIN:
			out = append(out, authz.RoleAdmin)
		}
	}
	return out
}

// upstream turns a failed call to the user service into an error for our
// caller: unavailable stays unavailable (retryable), anything else is ours.
func upstream(what string, err error) error {
	if connect.CodeOf(err) == connect.CodeUnavailable {
		return errs.Unavailablef("accounts are unavailable, try again")
	}
	return &errs.Error{Kind: errs.Internal, Message: what, Err: err}
}
