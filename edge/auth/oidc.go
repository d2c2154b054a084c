package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// ProviderConfig is one OpenID Connect provider people may sign in with.
type ProviderConfig struct {
	ID           string // short name used in the API, e.g. "google"
	DisplayName  string
	Issuer       string // e.g. https://accounts.google.com
	ClientID     string
	ClientSecret string
	// RedirectURIs the provider knows for this client; a login may only ask
	// to come back to one of them.
	RedirectURIs []string
	// Scopes beyond "openid"; default email and profile.
	Scopes []string
}

func (c ProviderConfig) validate() error {
	if c.ID == "" || c.Issuer == "" || c.ClientID == "" || len(c.RedirectURIs) == 0 {
		return fmt.Errorf("auth: provider %q needs an id, issuer, client id and at least one redirect URI", c.ID)
	}
	return nil
}

// provider discovers its configuration once, on first use.
type provider struct {
	cfg ProviderConfig

	mu       sync.Mutex
	oidc     *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

func (p *provider) discover(ctx context.Context) (*oidc.Provider, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.oidc == nil {
		op, err := oidc.NewProvider(ctx, p.cfg.Issuer)
		if err != nil {
			return nil, nil, errs.Unavailablef("sign-in with %s is unavailable, try again", p.cfg.DisplayName)
		}
		p.oidc, p.verifier = op, op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID})
	}
	return p.oidc, p.verifier, nil
}

func (p *provider) oauth2(op *oidc.Provider, redirectURI string) *oauth2.Config {
	scopes := p.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"email", "profile"}
	}
	return &oauth2.Config{
		ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: op.Endpoint(),
		RedirectURL: redirectURI, Scopes: append([]string{oidc.ScopeOpenID}, scopes...),
	}
}

// Pending is a login under way between StartProviderLogin and
// FinishProviderLogin.
type Pending struct {
	ProviderID   string
	RedirectURI  string
	CodeVerifier string // PKCE
	Nonce        string
}

// PendingStore keeps pending logins by state for a short time; Take returns
// and removes one, so a state works once.
type PendingStore interface {
	Put(ctx context.Context, state string, p Pending, ttl time.Duration) error
	Take(ctx context.Context, state string) (Pending, bool, error)
}

// pendingTTL is how long a person has to finish signing in at the provider.
const pendingTTL = 10 * time.Minute

// ListProviders implements AuthService.
func (s *Service) ListProviders(context.Context, *authv1.ListProvidersRequest) (*authv1.ListProvidersResponse, error) {
	res := &authv1.ListProvidersResponse{}
	for _, pc := range s.d.Providers {
		res.Providers = append(res.Providers, &authv1.Provider{Id: pc.ID, DisplayName: pc.DisplayName})
	}
	return res, nil
}

// StartProviderLogin implements AuthService.
func (s *Service) StartProviderLogin(ctx context.Context, req *authv1.StartProviderLoginRequest) (*authv1.StartProviderLoginResponse, error) {
	p, ok := s.providers[req.GetProviderId()]
	if !ok {
		return nil, errs.NotFoundf("no sign-in provider %q", req.GetProviderId())
	}
	if !slices.Contains(p.cfg.RedirectURIs, req.GetRedirectUri()) {
		return nil, errs.Invalidf("redirect_uri is not one configured for %s", p.cfg.ID)
	}
	op, _, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	pending := Pending{ProviderID: p.cfg.ID, RedirectURI: req.GetRedirectUri(), CodeVerifier: verifier, Nonce: nonce}
	if err := s.d.Pending.Put(ctx, state, pending, pendingTTL); err != nil {
		return nil, err
	}
	url := p.oauth2(op, req.GetRedirectUri()).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	return &authv1.StartProviderLoginResponse{AuthorizationUrl: url, State: state}, nil
}

// FinishProviderLogin implements AuthService.
func (s *Service) FinishProviderLogin(ctx context.Context, req *authv1.FinishProviderLoginRequest) (*authv1.FinishProviderLoginResponse, error) {
	pending, ok, err := s.d.Pending.Take(ctx, req.GetState())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.Invalidf("this sign-in has expired or was already used: start again")
	}
	p := s.providers[pending.ProviderID]
	if p == nil {
		return nil, errs.Invalidf("this sign-in's provider is no longer configured")
	}
	op, verifier, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := p.oauth2(op, pending.RedirectURI).Exchange(ctx, req.GetCode(), oauth2.VerifierOption(pending.CodeVerifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, errs.Unauthenticatedf("%s refused the sign-in: %s", p.cfg.DisplayName, re.ErrorCode)
		}
		return nil, errs.Unavailablef("sign-in with %s is unavailable, try again", p.cfg.DisplayName)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, errs.Unauthenticatedf("%s sent no ID token", p.cfg.DisplayName)
	}
	idToken, err := verifier.Verify(ctx, rawID)
	if err != nil || idToken.Nonce != pending.Nonce {
		return nil, errs.Unauthenticatedf("%s sent an ID token that does not verify", p.cfg.DisplayName)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idToken.Claims(&claims); err != nil {
		return nil, errs.Unauthenticatedf("%s sent unreadable claims", p.cfg.DisplayName)
	}
	linked, err := s.d.Users.LinkExternalIdentity(ctx, &userv1.LinkExternalIdentityRequest{
		Issuer: idToken.Issuer, Subject: idToken.Subject,
		Email: claims.Email, EmailVerified: claims.EmailVerified, DisplayName: truncate(claims.Name, 100),
	})
	if err != nil {
		return nil, upstream("link identity", err)
	}
	if linked.GetSubject().GetStatus() != userv1.UserStatus_USER_STATUS_ACTIVE {
		return nil, errs.Unauthenticatedf("this account is disabled")
	}
	tokens, err := s.startSession(ctx, linked.GetSubject())
	if err != nil {
		return nil, err
	}
	return &authv1.FinishProviderLoginResponse{Tokens: tokens, Created: linked.GetCreated()}, nil
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
