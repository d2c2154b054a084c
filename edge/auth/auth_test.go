package auth_test

import (
	"context"
	"errors"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/emporiumhq/emporium/edge/auth"
	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	"github.com/emporiumhq/emporium/gen/emporium/auth/v1/authv1connect"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/oidctest"
	"github.com/emporiumhq/emporium/internal/platform/ratelimit"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/serve/servetest"
	"github.com/emporiumhq/emporium/internal/platform/token"
	"github.com/emporiumhq/emporium/internal/testworld"
)

const (
	internalSecret = "internal-test-secret"
	issuer         = "emporium-test"
	audience       = "emporium"
	redirectURI    = "https://shop.example.com/auth/callback"
	password       = "correct horse battery staple"
)

type env struct {
	auth     authv1connect.AuthServiceClient
	authURL  string
	userURL  string
	users    *testworld.World
	mail     *mailbox.Mailbox
	provider *oidctest.Provider
}

// newEnv runs the user service and AuthService as separate loopback servers,
// as the edge and the user service run in production.
func newEnv(t testing.TB, accountLimit ratelimit.Limit) *env {
	t.Helper()
	keys, err := token.NewKeySet(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	// Sign-outs end access tokens at once: the edge's Refresher, the user
	// service and every verifier share the revocations, as in a process.
	revocations := token.NewMemoryRevocations()
	log := logx.Discard()
	verifier, err := token.NewStaticVerifier(keys, issuer, audience, token.WithRevocations(revocations, log))
	if err != nil {
		t.Fatal(err)
	}
	authn := authz.Either(verifier, authz.InternalCredential(internalSecret))
	opts, err := serve.HandlerOptions(log, authn)
	if err != nil {
		t.Fatal(err)
	}

	// The real user service, from the shared test world, on its own server.
	users := testworld.New(t, "sqlite", testworld.Options{Services: []string{"user"}, Auth: authn, UserLinksByMail: true,
		Revocations: revocations})
	userURL := users.URL

	provider := oidctest.Start(t, "emporium-client", "client-secret")
	svc, err := auth.New(auth.Deps{
		Users:        userv1connect.NewUserServiceClient(http.DefaultClient, userURL, servetest.Bearer(internalSecret)),
		Signer:       &token.Signer{Keys: keys, Issuer: issuer, Audience: audience, TTL: 15 * time.Minute},
		Refresher:    &token.Refresher{Store: token.NewMemoryStore(), Revocations: revocations},
		Limiter:      ratelimit.NewMemory(nil),
		AccountLimit: accountLimit,
		Providers: []auth.ProviderConfig{{
			ID: "test", DisplayName: "Test ID", Issuer: provider.Issuer,
			ClientID: provider.ClientID, ClientSecret: provider.ClientSecret, RedirectURIs: []string{redirectURI},
		}},
		Pending: auth.NewMemoryPending(nil),
		Log:     log,
	})
	if err != nil {
		t.Fatal(err)
	}
	authMux := http.NewServeMux()
	svc.Mount(authMux, opts...)
	authURL := servetest.Start(t, authMux)
	return &env{
		auth: authv1connect.NewAuthServiceClient(http.DefaultClient, authURL), authURL: authURL,
		userURL: userURL, users: users, mail: users.Mailbox, provider: provider,
	}
}

func mustKey(t testing.TB) *token.Key {
	t.Helper()
	k, err := token.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var roomy = ratelimit.Limit{Rate: 100, Burst: 100}

func (e *env) register(t *testing.T, email string) string {
	t.Helper()
	if _, err := userv1connect.NewUserServiceClient(http.DefaultClient, e.userURL).
		Register(context.Background(), &userv1.RegisterRequest{Email: email, Password: password}); err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	// Register names no account: the edge's internal check does.
	res, err := userv1connect.NewUserServiceClient(http.DefaultClient, e.userURL, servetest.Bearer(internalSecret)).
		CheckPassword(context.Background(), &userv1.CheckPasswordRequest{Email: email, Password: password})
	if err != nil || res.GetSubject() == nil {
		t.Fatalf("check password of %s: %v, %v", email, res, err)
	}
	return res.GetSubject().GetUserId()
}

func (e *env) login(t *testing.T, email, pw string) (*authv1.Tokens, error) {
	t.Helper()
	res, err := e.auth.Login(context.Background(), &authv1.LoginRequest{Email: email, Password: pw})
	return res.GetTokens(), err
}

func (e *env) me(tok string) (*userv1.User, error) {
	res, err := userv1connect.NewUserServiceClient(http.DefaultClient, e.userURL, servetest.Bearer(tok)).GetMe(context.Background(), &userv1.GetMeRequest{})
	return res.GetUser(), err
}

func (e *env) refresh(raw string) (*authv1.Tokens, error) {
	res, err := e.auth.Refresh(context.Background(), &authv1.RefreshRequest{RefreshToken: raw})
	return res.GetTokens(), err
}

func TestLoginIssuesTokensServicesAccept(t *testing.T) {
	t.Parallel()
	e := newEnv(t, roomy)
	id := e.register(t, "ada@example.com")
	tokens, err := e.login(t, " Ada@Example.com ", password)
	if err != nil {
		t.Fatal(err)
	}
	if tokens.GetUserId() != id || tokens.GetRefreshToken() == "" || !tokens.GetAccessTokenExpireTime().AsTime().After(time.Now().Add(14*time.Minute)) {
		t.Errorf("tokens = %v", tokens)
	}
	me, err := e.me(tokens.GetAccessToken())
	if err != nil || me.GetId() != id {
		t.Fatalf("GetMe with the access token = %v, %v", me, err)
	}
	for _, tt := range []struct{ email, pw string }{{"ada@example.com", "wrong password!!"}, {"nobody@example.com", password}} {
		_, err := e.login(t, tt.email, tt.pw)
		if code(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "wrong email or password") {
			t.Errorf("login %s: %v, want unauthenticated with one message for both cases", tt.email, err)
		}
	}
	// The internal methods refuse a customer's token: only the edge calls them.
	_, err = userv1connect.NewUserServiceClient(http.DefaultClient, e.userURL, servetest.Bearer(tokens.GetAccessToken())).
		CheckPassword(context.Background(), &userv1.CheckPasswordRequest{Email: "ada@example.com", Password: password})
	if code(err) != connect.CodePermissionDenied {
		t.Errorf("customer calling CheckPassword: %v, want permission_denied", err)
	}
}

func TestRefreshRotatesAndReuseRevokesTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, roomy)
	e.register(t, "bea@example.com")
	first, err := e.login(t, "bea@example.com", password)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.refresh(first.GetRefreshToken())
	if err != nil {
		t.Fatal(err)
	}
	if second.GetRefreshToken() == first.GetRefreshToken() || second.GetAccessToken() == "" {
		t.Fatalf("refresh did not rotate: %v", second)
	}
	if _, err := e.me(second.GetAccessToken()); err != nil {
		t.Errorf("refreshed access token refused: %v", err)
	}
	// A thief replays the spent token: the whole session ends.
	if _, err := e.refresh(first.GetRefreshToken()); code(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "reuse") {
		t.Errorf("reused refresh token: %v, want unauthenticated naming reuse", err)
	}
	if _, err := e.refresh(second.GetRefreshToken()); code(err) != connect.CodeUnauthenticated {
		t.Errorf("the owner's newer token after reuse: %v, want the session revoked", err)
	}
	// Another session of the same person is untouched.
	other, err := e.login(t, "bea@example.com", password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.refresh(other.GetRefreshToken()); err != nil {
		t.Errorf("an unrelated session was revoked too: %v", err)
	}
}

func TestLogoutAndLogoutEverywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t, roomy)
	e.register(t, "cy@example.com")
	ctx := context.Background()
	a, _ := e.login(t, "cy@example.com", password)
	b, _ := e.login(t, "cy@example.com", password)
	c, _ := e.login(t, "cy@example.com", password)
	if _, err := e.auth.Logout(ctx, &authv1.LogoutRequest{RefreshToken: a.GetRefreshToken()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.refresh(a.GetRefreshToken()); code(err) != connect.CodeUnauthenticated {
		t.Errorf("refresh after logout: %v", err)
	}
	if _, err := e.refresh(b.GetRefreshToken()); err != nil {
		t.Fatalf("logout of one session ended another: %v", err)
	}
	if _, err := e.auth.LogoutEverywhere(ctx, &authv1.LogoutEverywhereRequest{}); code(err) != connect.CodeUnauthenticated {
		t.Errorf("LogoutEverywhere without a token: %v, want unauthenticated", err)
	}
	everywhere := authv1connect.NewAuthServiceClient(http.DefaultClient, e.authURL, servetest.Bearer(c.GetAccessToken()))
	if _, err := everywhere.LogoutEverywhere(ctx, &authv1.LogoutEverywhereRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.refresh(c.GetRefreshToken()); code(err) != connect.CodeUnauthenticated {
		t.Errorf("refresh after logout everywhere: %v", err)
	}
}

func TestSigningOutEndsAccessTokensAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, roomy)
	e.register(t, "kim@example.com")
	ctx := context.Background()
	works := func(what, tok string) {
		t.Helper()
		if _, err := e.me(tok); err != nil {
			t.Fatalf("%s: GetMe: %v", what, err)
		}
	}
	ended := func(what, tok string) {
		t.Helper()
		if _, err := e.me(tok); code(err) != connect.CodeUnauthenticated {
			t.Errorf("%s: GetMe with the access token: %v, want unauthenticated at once", what, err)
		}
	}
	a, _ := e.login(t, "kim@example.com", password)
	b, _ := e.login(t, "kim@example.com", password)
	works("before Logout", a.GetAccessToken())
	if _, err := e.auth.Logout(ctx, &authv1.LogoutRequest{RefreshToken: a.GetRefreshToken()}); err != nil {
		t.Fatal(err)
	}
	ended("after Logout", a.GetAccessToken())
	works("another session after Logout", b.GetAccessToken())

	everywhere := authv1connect.NewAuthServiceClient(http.DefaultClient, e.authURL, servetest.Bearer(b.GetAccessToken()))
	c, _ := e.login(t, "kim@example.com", password)
	time.Sleep(2 * time.Millisecond) // sessions are dated to the millisecond
	if _, err := everywhere.LogoutEverywhere(ctx, &authv1.LogoutEverywhereRequest{}); err != nil {
		t.Fatal(err)
	}
	ended("after LogoutEverywhere, its caller", b.GetAccessToken())
	ended("after LogoutEverywhere, another session", c.GetAccessToken())

	time.Sleep(2 * time.Millisecond)
	d, err := e.login(t, "kim@example.com", password)
	if err != nil {
		t.Fatal(err)
	}
	works("a session started after LogoutEverywhere", d.GetAccessToken())
	time.Sleep(2 * time.Millisecond)
	const newPassword = "another long passphrase"
	if _, err := userv1connect.NewUserServiceClient(http.DefaultClient, e.userURL, servetest.Bearer(d.GetAccessToken())).
		ChangePassword(ctx, &userv1.ChangePasswordRequest{CurrentPassword: password, NewPassword: newPassword}); err != nil {
		t.Fatal(err)
	}
	ended("after a password change", d.GetAccessToken())
	time.Sleep(2 * time.Millisecond)
	f, err := e.login(t, "kim@example.com", newPassword)
	if err != nil {
		t.Fatal(err)
	}
	works("signed in with the new password", f.GetAccessToken())
}

func TestDisabledAccountCannotRefreshOrLogIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, roomy)
	id := e.register(t, "dee@example.com")
	tokens, _ := e.login(t, "dee@example.com", password)
	// An admin disables the account (through the service, as the admin RPC would).
	if _, err := e.users.User.Service().EnsureAdmin(context.Background(), "root@example.com", "admin password 1234!"); err != nil {
		t.Fatal(err)
	}
	admin, err := e.login(t, "root@example.com", "admin password 1234!")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := userv1connect.NewUserServiceClient(http.DefaultClient, e.userURL, servetest.Bearer(admin.GetAccessToken())).
		DisableUser(context.Background(), &userv1.DisableUserRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.refresh(tokens.GetRefreshToken()); code(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("refresh of a disabled account: %v", err)
	}
	if _, err := e.login(t, "dee@example.com", password); code(err) != connect.CodeUnauthenticated {
		t.Errorf("login of a disabled account: %v", err)
	}
	if _, err := e.me(tokens.GetAccessToken()); code(err) != connect.CodeUnauthenticated {
		t.Errorf("a disabled account's unexpired access token: %v, want unauthenticated (revoked at once)", err)
	}
}

func TestPasswordResetEndsEarlierSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, roomy)
	e.register(t, "eve@example.com")
	before, _ := e.login(t, "eve@example.com", password)
	time.Sleep(2 * time.Millisecond) // sessions are dated to the millisecond
	users := userv1connect.NewUserServiceClient(http.DefaultClient, e.userURL)
	ctx := context.Background()
	if _, err := users.RequestPasswordReset(ctx, &userv1.RequestPasswordResetRequest{Email: "eve@example.com"}); err != nil {
		t.Fatal(err)
	}
	var link string
	for _, m := range e.mail.List() {
		if m.To == "eve@example.com" && strings.Contains(m.Text, "reset-password?token=") {
			link = regexp.MustCompile(`https?://\S+reset-password\?token=\S+`).FindString(m.Text)
			break
		}
	}
	u, err := url.Parse(link)
	if err != nil || link == "" {
		t.Fatalf("no reset link in the mailbox: %q", link)
	}
	const newPassword = "a brand new passphrase"
	if _, err := users.ResetPassword(ctx, &userv1.ResetPasswordRequest{Token: u.Query().Get("token"), NewPassword: newPassword}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	if _, err := e.refresh(before.GetRefreshToken()); code(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "password changed") {
		t.Errorf("refresh of a session from before the reset: %v", err)
	}
	after, err := e.login(t, "eve@example.com", newPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.me(after.GetAccessToken()); err != nil {
		t.Errorf("the access token of a session from after the reset: %v", err)
	}
	if _, err := e.me(before.GetAccessToken()); code(err) != connect.CodeUnauthenticated {
		t.Errorf("the access token of a session from before the reset: %v, want unauthenticated", err)
	}
	if _, err := e.refresh(after.GetRefreshToken()); err != nil {
		t.Errorf("refresh of a session from after the reset: %v", err)
	}
}

func TestBruteForceIsThrottledPerAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ratelimit.Limit{Rate: 0.001, Burst: 3})
	e.register(t, "fay@example.com")
	var codes []connect.Code
	for range 3 {
		_, err := e.login(t, "fay@example.com", "guess number one")
		codes = append(codes, code(err))
	}
	_, err := e.login(t, "FAY@example.com", password) // right password, other spelling: same account
	codes = append(codes, code(err))
	want := []connect.Code{connect.CodeUnauthenticated, connect.CodeUnauthenticated, connect.CodeUnauthenticated, connect.CodeResourceExhausted}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("attempts: %v, want %v", codes, want)
		}
	}
	if !strings.Contains(err.Error(), "too many sign-in attempts") {
		t.Errorf("throttled message: %v", err)
	}
	e.register(t, "gus@example.com")
	if _, err := e.login(t, "gus@example.com", password); err != nil {
		t.Errorf("another account is throttled too: %v", err)
	}
}

func TestSignInWithOpenIDConnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, roomy)
	ctx := context.Background()
	e.provider.SignIn(oidctest.Person{Subject: "provider-user-7", Email: "Hal@Example.com", EmailVerified: true, Name: "Hal"})
	providers, err := e.auth.ListProviders(ctx, &authv1.ListProvidersRequest{})
	if err != nil || len(providers.GetProviders()) != 1 || providers.GetProviders()[0].GetId() != "test" {
		t.Fatalf("ListProviders = %v, %v", providers, err)
	}
	signIn := func() (*authv1.FinishProviderLoginResponse, error) {
		t.Helper()
		start, err := e.auth.StartProviderLogin(ctx, &authv1.StartProviderLoginRequest{ProviderId: "test", RedirectUri: redirectURI})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(start.GetAuthorizationUrl())
		if q := u.Query(); q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") != start.GetState() {
			t.Fatalf("authorization URL lacks PKCE, nonce or state: %s", u)
		}
		// The browser goes to the provider and comes back to redirect_uri.
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := noFollow.Get(start.GetAuthorizationUrl())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		back, _ := url.Parse(res.Header.Get("Location"))
		if !strings.HasPrefix(back.String(), redirectURI) {
			t.Fatalf("provider sent the browser to %s", back)
		}
		finish := &authv1.FinishProviderLoginRequest{State: back.Query().Get("state"), Code: back.Query().Get("code")}
		out, err := e.auth.FinishProviderLogin(ctx, finish)
		if err == nil {
			// A state works once.
			if _, again := e.auth.FinishProviderLogin(ctx, finish); code(again) != connect.CodeInvalidArgument {
				t.Errorf("finishing twice with one state: %v, want invalid_argument", again)
			}
		}
		return out, err
	}
	first, err := signIn()
	if err != nil {
		t.Fatal(err)
	}
	me, err := e.me(first.GetTokens().GetAccessToken())
	if err != nil || !first.GetCreated() || me.GetEmail() != "hal@example.com" || !me.GetEmailVerified() {
		t.Fatalf("first provider sign-in: created %v, me %v, %v", first.GetCreated(), me, err)
	}
	second, err := signIn()
	if err != nil || second.GetCreated() || second.GetTokens().GetUserId() != first.GetTokens().GetUserId() {
		t.Errorf("second sign-in = %v, %v; want the same account, not created", second, err)
	}
	tests := []struct {
		name string
		req  *authv1.StartProviderLoginRequest
		want connect.Code
	}{
		{"unknown provider", &authv1.StartProviderLoginRequest{ProviderId: "nope", RedirectUri: redirectURI}, connect.CodeNotFound},
		{"redirect not configured", &authv1.StartProviderLoginRequest{ProviderId: "test", RedirectUri: "https://evil.example.net/cb"}, connect.CodeInvalidArgument},
	}
	for _, tt := range tests {
		if _, err := e.auth.StartProviderLogin(ctx, tt.req); code(err) != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	_, err = e.auth.FinishProviderLogin(ctx, &authv1.FinishProviderLoginRequest{State: "forged", Code: "x"})
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument {
		t.Errorf("forged state: %v", err)
	}
}

var code = testkit.Code
