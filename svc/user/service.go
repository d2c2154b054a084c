// Package user is the account service: registration, credentials
// (argon2id), email verification and password reset, profiles, address
// books and roles. It implements UserService from api/emporium/user/v1.
// Sign-in itself (tokens, sessions, OIDC) is AuthService at the edge, which
// calls the internal methods here with a service principal.
package user

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	notificationv1 "github.com/emporiumhq/emporium/gen/emporium/notification/v1"
	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/token"
)

// Deps are what the service needs from the outside.
type Deps struct {
	DB *bun.DB // migrated with Migrate
	// Notifications, when set, delivers verification and reset links
	// (EMAIL_VERIFICATION and PASSWORD_RESET events, with the shop's
	// templates, preferences and delivery log) through the service's
	// outbox: Start must run for them to go out.
	Notifications notificationv1connect.NotificationServiceClient
	// JobPoll is how often the outbox looks for links queued by other
	// replicas; zero is River's default.
	JobPoll time.Duration
	// JobTimeout bounds each job's run; 0 means the jobs package's default.
	JobTimeout time.Duration
	// Mail delivers them directly where there is no notification service;
	// required when Notifications is nil.
	Mail mailbox.Sender
	// PublicURL is where people reach the shop, e.g. "http://localhost:8080";
	// links in messages point to PublicURL/verify-email and
	// PublicURL/reset-password.
	PublicURL string
	Log       *slog.Logger
	Now       func() time.Time // defaults to time.Now
	// HashConcurrency caps argon2id hashes running at once (each holds
	// 19 MiB); default 2×GOMAXPROCS.
	HashConcurrency int
	// Revocations, when set, end the access tokens of a user's earlier
	// sessions at once when their password changes or the account is
	// disabled; without them those tokens live until they expire (their
	// refresh tokens stop at once either way).
	Revocations token.Revocations
}

// Service implements the user API.
type Service struct {
	store     *store
	notify    notificationv1connect.NotificationServiceClient
	jobs      *jobs.Client // the outbox to notify; nil without it
	mail      mailbox.Sender
	publicURL string
	log       *slog.Logger
	now       func() time.Time
	hasher    *hasher
	revoke    token.Revocations
}

var _ userv1connect.UserServiceHandler = (*Service)(nil)

// Lifetimes of single-use links.
const (
	verifyTTL = 24 * time.Hour
	resetTTL  = time.Hour
)

// New checks deps and returns the service.
func New(d Deps) (*Service, error) {
	switch {
	case d.DB == nil:
		return nil, errors.New("user: DB is required")
	case d.Mail == nil && d.Notifications == nil:
		return nil, errors.New("user: Notifications or Mail is required")
	case d.Log == nil:
		return nil, errors.New("user: Log is required")
	case d.HashConcurrency < 0:
		return nil, fmt.Errorf("user: HashConcurrency %d is negative", d.HashConcurrency)
	}
	u, err := url.Parse(d.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("user: PublicURL %q is not an http(s) URL like http://localhost:8080", d.PublicURL)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.HashConcurrency == 0 {
		d.HashConcurrency = 2 * runtime.GOMAXPROCS(0)
	}
	s := &Service{
		store: &store{db: d.DB}, notify: d.Notifications, mail: d.Mail, publicURL: strings.TrimRight(d.PublicURL, "/"),
		log: d.Log, now: d.Now, hasher: newHasher(d.HashConcurrency), revoke: d.Revocations,
	}
	if s.notify != nil {
		w := river.NewWorkers()
		river.AddWorker(w, river.WorkFunc(s.sendLinkJob))
		jc, err := jobs.New(d.DB, jobs.Config{Workers: w, Queues: map[string]int{"default": 10}, Log: d.Log, FetchPollInterval: d.JobPoll, JobTimeout: d.JobTimeout})
		if err != nil {
			return nil, err
		}
		s.jobs = jc
	}
	return s, nil
}

// Migrate brings everything the service keeps in a database up to date:
// Migrations, then River's tables (its outbox, used with Notifications) and
// processed_events. It returns the service migrations it applied.
var Migrate = jobs.MigrateWith("user", Migrations)

// Start works the outbox until Stop; without Notifications there is none.
func (s *Service) Start(ctx context.Context) error {
	if s.jobs == nil {
		return nil
	}
	return s.jobs.Start(ctx)
}

// Stop waits for links being handed over, or for ctx to end.
func (s *Service) Stop(ctx context.Context) error {
	if s.jobs == nil {
		return nil
	}
	return s.jobs.Stop(ctx)
}

// ServiceNames are the fully-qualified names of the services this package
// serves, for health checks, reflection and routing.
var ServiceNames = []string{userv1connect.UserServiceName}

// Mount registers the Connect handlers on mux.
func (s *Service) Mount(mux *http.ServeMux, opts ...connect.HandlerOption) {
	mux.Handle(userv1connect.NewUserServiceHandler(s, opts...))
}

// normEmail trims and lower-cases an email address.
func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// checkEmail is a light check of a normalised address; the API's
// validation is stricter, this guards direct calls.
func checkEmail(email string) error {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || len(email) > 254 || strings.ContainsFunc(email, unicode.IsSpace) || strings.Contains(domain, "@") {
		return errs.Invalidf("email %q is not a valid address", email)
	}
	return nil
}

// caller is the authenticated principal's subject.
func caller(ctx context.Context) (*authz.Principal, error) {
	p := authz.FromContext(ctx)
	if p == nil || p.Subject == "" {
		return nil, errs.Unauthenticatedf("sign in first: this method needs credentials")
	}
	return p, nil
}

// me is the caller's own, active account.
func (s *Service) me(ctx context.Context) (*userRow, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.store.userBy(ctx, "id", p.Subject)
	if errs.Is(err, errs.NotFound) {
		return nil, errs.NotFoundf("your account was not found")
	}
	if err != nil {
		return nil, err
	}
	if u.Status != statusActive {
		return nil, errs.PermissionDeniedf("this account is disabled")
	}
	return u, nil
}

// Register implements UserService. Its answer is the same whether or not
// the email already has an account (an empty response, after the same
// work: a password hash), so it tells nobody who is a customer; the owner
// of an existing account gets a password-reset link instead, which is what
// someone who forgot they signed up needs.
func (s *Service) Register(ctx context.Context, req *userv1.RegisterRequest) (*userv1.RegisterResponse, error) {
	email := normEmail(req.GetEmail())
	if err := checkEmail(email); err != nil {
		return nil, err
	}
	if err := checkText("display_name", req.GetDisplayName(), 100); err != nil {
		return nil, err
	}
	if err := checkPolicy(req.GetPassword(), email); err != nil {
		return nil, err
	}
	hash, err := s.hasher.hash(ctx, req.GetPassword())
	if err != nil {
		return nil, err
	}
	now := micros(s.now())
	u := &userRow{
		ID: newID(), Email: email, PasswordHash: hash,
		DisplayName: strings.TrimSpace(req.GetDisplayName()), MarketingOptIn: req.GetMarketingOptIn(),
		Roles: []string{authz.RoleCustomer}, Status: statusActive, CreatedAt: now, UpdatedAt: now,
	}
	err = s.store.createUser(ctx, u)
	if errors.Is(err, errEmailTaken) {
		s.remindOwner(ctx, email)
		return &userv1.RegisterResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	// The account exists either way; a lost message is resent on request.
	if err := s.sendVerification(ctx, u); err != nil {
		s.log.WarnContext(ctx, "verification message not sent", "user_id", u.ID, "err", err)
	}
	return &userv1.RegisterResponse{}, nil
}

// remindOwner answers a sign-up with a taken email by sending its owner,
// when the account is active, a password-reset link. Failures are logged:
// an error would tell the caller the account exists.
func (s *Service) remindOwner(ctx context.Context, email string) {
	u, err := s.store.userBy(ctx, "email", email)
	switch {
	case err != nil:
		s.log.ErrorContext(ctx, "sign-up with a taken email: owner not found", "err", err)
	case u.Status == statusActive:
		if err := s.sendReset(ctx, u); err != nil {
			s.log.ErrorContext(ctx, "sign-up with a taken email: reset message not sent", "user_id", u.ID, "err", err)
		}
	}
}

// newLinkToken makes a single-use token: 32 random bytes, URL-safe. Only
// its hash is stored.
func newLinkToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, linkTokenHash(token)
}

func linkTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// issueLink stores a new token for u and returns the link carrying it.
// With a notification service the link is put in the outbox in the same
// transaction (queued is true): the token exists exactly when its message
// will go out, whatever crashes. Without one the caller mails it.
func (s *Service) issueLink(ctx context.Context, u *userRow, purpose, path string, ttl time.Duration, kind notificationv1.EventKind) (link string, queued bool, err error) {
	token, hash := newLinkToken()
	now := s.now()
	row := &tokenRow{
		TokenHash: hash, UserID: u.ID, Purpose: purpose,
		ExpiresAt: micros(now.Add(ttl)), CreatedAt: micros(now),
	}
	link = s.publicURL + path + "?token=" + token
	if s.jobs == nil {
		return link, false, s.store.createToken(ctx, row)
	}
	err = s.store.tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.store.insertToken(ctx, tx, row); err != nil {
			return err
		}
		return s.queueLink(ctx, tx, u, kind, link, now.Add(ttl))
	})
	return link, true, err
}

func greeting(u *userRow) string {
	if u.DisplayName != "" {
		return "Hello " + u.DisplayName + ","
	}
	return "Hello,"
}

func (s *Service) sendVerification(ctx context.Context, u *userRow) error {
	link, queued, err := s.issueLink(ctx, u, purposeVerifyEmail, "/verify-email", verifyTTL, emailVerification)
	if err != nil || queued {
		return err
	}
	return s.mail.Send(ctx, mailbox.Message{
		To:      u.Email,
		Subject: "Confirm your email address",
		Text: greeting(u) + "\n\nPlease confirm the email address of your Emporium account by opening this link within 24 hours:\n\n" +
			link + "\n\nIf you did not create an account, you can ignore this message.\n",
	})
}

func (s *Service) sendReset(ctx context.Context, u *userRow) error {
	link, queued, err := s.issueLink(ctx, u, purposeResetPassword, "/reset-password", resetTTL, passwordReset)
	if err != nil || queued {
		return err
	}
	return s.mail.Send(ctx, mailbox.Message{
		To:      u.Email,
		Subject: "Reset your password",
		Text: greeting(u) + "\n\nSomeone (hopefully you) asked to reset the password of your Emporium account. Open this link within an hour to choose a new one:\n\n" +
			link + "\n\nIf it wasn't you, ignore this message: your password stays as it is.\n",
	})
}

// GetMe implements UserService.
func (s *Service) GetMe(ctx context.Context, _ *userv1.GetMeRequest) (*userv1.GetMeResponse, error) {
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	return &userv1.GetMeResponse{User: u.toProto()}, nil
}

// profilePaths are the field-mask paths UpdateMe accepts. Everything else
// (roles, status, email, id, …) is refused: no mass assignment.
var profilePaths = []string{"display_name", "phone", "locale", "marketing_opt_in"}

var (
	phonePattern  = regexp.MustCompile(`^\+?[0-9 ()./-]{3,30}$`)
	localePattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`) // BCP 47, loosely
)

// UpdateMe implements UserService.
func (s *Service) UpdateMe(ctx context.Context, req *userv1.UpdateMeRequest) (*userv1.UpdateMeResponse, error) {
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, errs.Invalidf("update_mask must name at least one field")
	}
	for _, p := range paths {
		if !slices.Contains(profilePaths, p) {
			return nil, errs.Invalidf("update_mask: %q cannot be changed here; use one of %v", p, profilePaths)
		}
	}
	in := req.GetUser()
	for _, p := range paths {
		var err error
		switch p {
		case "display_name":
			err = checkText("user.display_name", in.GetDisplayName(), 100)
		case "phone":
			if ph := in.GetPhone(); ph != "" && !phonePattern.MatchString(ph) {
				err = errs.Invalidf("user.phone %q is not a phone number (digits, spaces and + ( ) . - only, at most 30)", ph)
			}
		case "locale":
			if l := in.GetLocale(); l != "" && (len(l) > 35 || !localePattern.MatchString(l)) {
				err = errs.Invalidf("user.locale %q is not a language tag like en-GB", l)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	u, err = s.store.updateUser(ctx, u.ID, func(u *userRow) error {
		for _, p := range paths {
			switch p {
			case "display_name":
				u.DisplayName = strings.TrimSpace(in.GetDisplayName())
			case "phone":
				u.Phone = in.GetPhone()
			case "locale":
				u.Locale = in.GetLocale()
			case "marketing_opt_in":
				u.MarketingOptIn = in.GetMarketingOptIn()
			}
		}
		u.UpdatedAt = micros(s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &userv1.UpdateMeResponse{User: u.toProto()}, nil
}

// checkText refuses text longer than max characters, with control
// characters, or with bidirectional overrides and isolates (which make a
// name or address read differently on screen than it is stored: staff see
// these in the back office and on labels).
func checkText(field, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return errs.Invalidf("%s must be at most %d characters", field, max)
	}
	if !utf8.ValidString(v) || strings.ContainsFunc(v, unsafeRune) {
		return errs.Invalidf("%s must not contain control characters", field)
	}
	return nil
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || ('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069')
}

// ChangePassword implements UserService.
func (s *Service) ChangePassword(ctx context.Context, req *userv1.ChangePasswordRequest) (*userv1.ChangePasswordResponse, error) {
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" {
		return nil, errs.FailedPreconditionf("this account has no password yet (it signs in with a provider): use \"forgot password\" to set one")
	}
	ok, err := s.hasher.verify(ctx, req.GetCurrentPassword(), u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.PermissionDeniedf("current password is wrong")
	}
	if err := checkPolicy(req.GetNewPassword(), u.Email); err != nil {
		return nil, err
	}
	hash, err := s.hasher.hash(ctx, req.GetNewPassword())
	if err != nil {
		return nil, err
	}
	old := u.PasswordHash
	at := s.now()
	_, err = s.store.updateUser(ctx, u.ID, func(u *userRow) error {
		if u.PasswordHash != old {
			return errs.Abortedf("the password was changed meanwhile; try again")
		}
		now := micros(at)
		u.PasswordHash, u.SessionsNotBefore, u.UpdatedAt = hash, now, now
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.endSessions(ctx, u.ID, at)
	return &userv1.ChangePasswordResponse{}, nil
}

// RequestEmailVerification implements UserService.
func (s *Service) RequestEmailVerification(ctx context.Context, _ *userv1.RequestEmailVerificationRequest) (*userv1.RequestEmailVerificationResponse, error) {
	u, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	if !u.EmailVerified {
		if err := s.sendVerification(ctx, u); err != nil {
			return nil, err
		}
	}
	return &userv1.RequestEmailVerificationResponse{}, nil
}

// VerifyEmail implements UserService.
func (s *Service) VerifyEmail(ctx context.Context, req *userv1.VerifyEmailRequest) (*userv1.VerifyEmailResponse, error) {
	now := micros(s.now())
	_, err := s.store.useToken(ctx, linkTokenHash(req.GetToken()), purposeVerifyEmail, now,
		func(ctx context.Context, tx bun.Tx, u *userRow) error {
			u.EmailVerified = true
			return spendTokens(ctx, tx, u.ID, purposeVerifyEmail, now)
		})
	if err != nil {
		return nil, err
	}
	return &userv1.VerifyEmailResponse{}, nil
}

// RequestPasswordReset implements UserService. It answers the same whether
// or not the account exists.
func (s *Service) RequestPasswordReset(ctx context.Context, req *userv1.RequestPasswordResetRequest) (*userv1.RequestPasswordResetResponse, error) {
	u, err := s.store.userBy(ctx, "email", normEmail(req.GetEmail()))
	switch {
	case errs.Is(err, errs.NotFound):
	case err != nil:
		return nil, err
	case u.Status == statusActive:
		// An error here would tell the caller the account exists: log it.
		if err := s.sendReset(ctx, u); err != nil {
			s.log.ErrorContext(ctx, "password reset message not sent", "user_id", u.ID, "err", err)
		}
	}
	return &userv1.RequestPasswordResetResponse{}, nil
}

// ResetPassword implements UserService.
func (s *Service) ResetPassword(ctx context.Context, req *userv1.ResetPasswordRequest) (*userv1.ResetPasswordResponse, error) {
	hash := linkTokenHash(req.GetToken())
	tok, err := s.store.validToken(ctx, hash, purposeResetPassword, micros(s.now()))
	if err != nil {
		return nil, err
	}
	u, err := s.store.userBy(ctx, "id", tok.UserID)
	if err != nil {
		return nil, err
	}
	if err := checkPolicy(req.GetNewPassword(), u.Email); err != nil {
		return nil, err // the link stays usable for a better password
	}
	pwHash, err := s.hasher.hash(ctx, req.GetNewPassword())
	if err != nil {
		return nil, err
	}
	at := s.now()
	now := micros(at)
	_, err = s.store.useToken(ctx, hash, purposeResetPassword, now,
		func(ctx context.Context, tx bun.Tx, u *userRow) error {
			u.PasswordHash = pwHash
			u.EmailVerified = true // they proved control of the address
			u.SessionsNotBefore = now
			return spendTokens(ctx, tx, u.ID, purposeResetPassword, now)
		})
	if err != nil {
		return nil, err
	}
	s.endSessions(ctx, u.ID, at)
	return &userv1.ResetPasswordResponse{}, nil
}

// endSessions makes the access tokens of userID's sessions started before
// at stop working now. Their refresh tokens already stop (the edge checks
// sessions_not_before on refresh), so a failure only lets those access
// tokens live until they expire: it is logged, not returned, as the change
// itself is done.
func (s *Service) endSessions(ctx context.Context, userID string, at time.Time) {
	if s.revoke == nil {
		return
	}
	if err := s.revoke.RevokeUser(ctx, userID, at); err != nil {
		s.log.ErrorContext(ctx, "access tokens not revoked; they end when they expire", "user_id", userID, "err", err)
	}
}
