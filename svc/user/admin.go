package user

import (
	"context"
	"slices"
	"strings"

	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/errs"
	"github.com/emporiumhq/emporium/internal/platform/paging"
)

// ListUsers implements UserService.
func (s *Service) ListUsers(ctx context.Context, req *userv1.ListUsersRequest) (*userv1.ListUsersResponse, error) {
	size := paging.Size(req.GetPageSize())
	query := strings.TrimSpace(req.GetQuery())
	f := userFilter{Query: query, Limit: size + 1}
	if req.GetPageToken() != "" {
		c := new(userCursor)
		if err := paging.Decode(req.GetPageToken(), c); err != nil {
			return nil, err
		}
		if c.Query != queryHash(query) {
			return nil, errs.Invalidf("page_token belongs to a request with another query: start again without it")
		}
		f.After = c
	}
	rows, err := s.store.listUsers(ctx, f)
	if err != nil {
		return nil, err
	}
	res := &userv1.ListUsersResponse{}
	if len(rows) > size {
		rows = rows[:size]
		last := rows[len(rows)-1]
		res.NextPageToken = paging.Encode(userCursor{Created: last.CreatedAt, ID: last.ID, Query: queryHash(query)})
	}
	res.Users = make([]*userv1.User, len(rows))
	for i, r := range rows {
		res.Users[i] = r.toProto()
	}
	return res, nil
}

func (s *Service) userByID(ctx context.Context, id string) (*userRow, error) {
	u, err := s.store.userBy(ctx, "id", id)
	if errs.Is(err, errs.NotFound) {
		return nil, errs.NotFoundf("user %q not found", id)
	}
	return u, err
}

// GetUser implements UserService.
func (s *Service) GetUser(ctx context.Context, req *userv1.GetUserRequest) (*userv1.GetUserResponse, error) {
	u, err := s.userByID(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	rows, err := s.store.addresses(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	res := &userv1.GetUserResponse{User: u.toProto(), Addresses: make([]*userv1.Address, len(rows))}
	for i, r := range rows {
		res.Addresses[i] = r.toProto()
	}
	return res, nil
}

// SetRoles implements UserService.
func (s *Service) SetRoles(ctx context.Context, req *userv1.SetRolesRequest) (*userv1.SetRolesResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	roles := roleNamesOf(req.GetRoles())
	if len(roles) == 0 {
		return nil, errs.Invalidf("roles must name at least one of ROLE_CUSTOMER, ROLE_STAFF, ROLE_ADMIN")
	}
	if req.GetId() == p.Subject && !slices.Contains(roles, authz.RoleAdmin) {
		return nil, errs.FailedPreconditionf("you cannot remove your own admin role; ask another admin to do it")
	}
	u, err := s.store.updateUser(ctx, req.GetId(), func(u *userRow) error {
		if !slices.Equal(u.Roles, roles) {
			u.Roles, u.UpdatedAt = roles, micros(s.now())
		}
		return nil
	})
	if errs.Is(err, errs.NotFound) {
		return nil, errs.NotFoundf("user %q not found", req.GetId())
	}
	if err != nil {
		return nil, err
	}
	return &userv1.SetRolesResponse{User: u.toProto()}, nil
}

// DisableUser implements UserService. Disabling a disabled account changes
// nothing.
func (s *Service) DisableUser(ctx context.Context, req *userv1.DisableUserRequest) (*userv1.DisableUserResponse, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetId() == p.Subject {
		return nil, errs.FailedPreconditionf("you cannot disable your own account")
	}
	at := s.now()
	u, err := s.store.updateUser(ctx, req.GetId(), func(u *userRow) error {
		if u.Status != statusDisabled {
			now := micros(at)
			u.Status, u.SessionsNotBefore, u.UpdatedAt = statusDisabled, now, now
		}
		return nil
	})
	if errs.Is(err, errs.NotFound) {
		return nil, errs.NotFoundf("user %q not found", req.GetId())
	}
	if err != nil {
		return nil, err
	}
	s.endSessions(ctx, u.ID, at)
	return &userv1.DisableUserResponse{User: u.toProto()}, nil
}

// EnableUser implements UserService. Sessions ended by DisableUser stay
// ended; the person signs in again.
func (s *Service) EnableUser(ctx context.Context, req *userv1.EnableUserRequest) (*userv1.EnableUserResponse, error) {
	u, err := s.store.updateUser(ctx, req.GetId(), func(u *userRow) error {
		if u.Status != statusActive {
			u.Status, u.UpdatedAt = statusActive, micros(s.now())
		}
		return nil
	})
	if errs.Is(err, errs.NotFound) {
		return nil, errs.NotFoundf("user %q not found", req.GetId())
	}
	if err != nil {
		return nil, err
	}
	return &userv1.EnableUserResponse{User: u.toProto()}, nil
}

// CheckPassword implements UserService. Unknown email, wrong password and
// disabled account all answer an empty response after the same work (one
// argon2id hash), so neither the answer nor its timing tells them apart.
func (s *Service) CheckPassword(ctx context.Context, req *userv1.CheckPasswordRequest) (*userv1.CheckPasswordResponse, error) {
	u, err := s.store.userBy(ctx, "email", normEmail(req.GetEmail()))
	if err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	stored := ""
	if u != nil {
		stored = u.PasswordHash // "" (no password) verifies against the dummy and fails
	}
	ok, err := s.hasher.verify(ctx, req.GetPassword(), stored)
	if err != nil {
		return nil, err
	}
	if !ok || u.Status != statusActive {
		return &userv1.CheckPasswordResponse{}, nil
	}
	if !strings.HasPrefix(stored, s.hasher.params.phcPrefix()) {
		s.upgradeHash(ctx, u, req.GetPassword())
	}
	return &userv1.CheckPasswordResponse{Subject: u.subject()}, nil
}

// upgradeHash rehashes a password stored with older argon2id parameters,
// now that the plain password is at hand. Failure only delays the upgrade.
func (s *Service) upgradeHash(ctx context.Context, u *userRow, password string) {
	hash, err := s.hasher.hash(ctx, password)
	if err == nil {
		old := u.PasswordHash
		_, err = s.store.updateUser(ctx, u.ID, func(u *userRow) error {
			if u.PasswordHash == old { // unchanged meanwhile
				u.PasswordHash = hash
			}
			return nil
		})
	}
	if err != nil {
		s.log.WarnContext(ctx, "password hash not upgraded", "user_id", u.ID, "err", err)
	}
}

// GetSubject implements UserService.
func (s *Service) GetSubject(ctx context.Context, req *userv1.GetSubjectRequest) (*userv1.GetSubjectResponse, error) {
	u, err := s.userByID(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &userv1.GetSubjectResponse{Subject: u.subject()}, nil
}

// GetContact implements UserService.
func (s *Service) GetContact(ctx context.Context, req *userv1.GetContactRequest) (*userv1.GetContactResponse, error) {
	u, err := s.userByID(ctx, req.GetUserId())
	if err != nil {
		return nil, err
	}
	return &userv1.GetContactResponse{Contact: &userv1.Contact{
		UserId: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, DisplayName: u.DisplayName,
		Phone: u.Phone, Locale: u.Locale, MarketingOptIn: u.MarketingOptIn, Status: userv1.UserStatus(u.Status),
	}}, nil
}

// LinkExternalIdentity implements UserService.
func (s *Service) LinkExternalIdentity(ctx context.Context, req *userv1.LinkExternalIdentityRequest) (*userv1.LinkExternalIdentityResponse, error) {
	in := externalLogin{
		Issuer: req.GetIssuer(), Subject: req.GetSubject(),
		Email: normEmail(req.GetEmail()), EmailVerified: req.GetEmailVerified(),
		DisplayName: strings.TrimSpace(req.GetDisplayName()),
	}
	if in.Email != "" {
		if err := checkEmail(in.Email); err != nil {
			return nil, err
		}
	}
	if err := checkText("display_name", in.DisplayName, 100); err != nil {
		in.DisplayName = ""
	}
	var (
		res linkResult
		err error
	)
	// A concurrent first sign-in of the same identity makes one of the two
	// inserts fail; the retry finds what the other made.
	for range 2 {
		res, err = s.store.linkIdentity(ctx, in, micros(s.now()))
		if !errs.Is(err, errs.Aborted) && !errs.Is(err, errs.Conflict) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return &userv1.LinkExternalIdentityResponse{Subject: res.user.subject(), Created: res.created}, nil
}

// EnsureAdmin makes sure an active admin account with email exists: it
// creates one (email verified, with password) or promotes and re-enables
// the existing account, whose password is left as it is unless it has none.
// `emporium dev` uses it to give the newcomer an admin login.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (created bool, err error) {
	email = normEmail(email)
	if err := checkEmail(email); err != nil {
		return false, err
	}
	u, err := s.store.userBy(ctx, "email", email)
	switch {
	case errs.Is(err, errs.NotFound):
		if err := checkPolicy(password, email); err != nil {
			return false, err
		}
		hash, err := s.hasher.hash(ctx, password)
		if err != nil {
			return false, err
		}
		now := micros(s.now())
		return true, s.store.createUser(ctx, &userRow{
			ID: newID(), Email: email, EmailVerified: true, PasswordHash: hash,
			Roles: []string{authz.RoleAdmin}, Status: statusActive, CreatedAt: now, UpdatedAt: now,
		})
	case err != nil:
		return false, err
	}
	hash := ""
	if u.PasswordHash == "" {
		if err := checkPolicy(password, email); err != nil {
			return false, err
		}
		if hash, err = s.hasher.hash(ctx, password); err != nil {
			return false, err
		}
	}
	_, err = s.store.updateUser(ctx, u.ID, func(u *userRow) error {
		if !u.hasRole(authz.RoleAdmin) {
			u.Roles = roleNamesOf(append(rolesToProto(u.Roles), userv1.Role_ROLE_ADMIN))
		}
		if u.PasswordHash == "" && hash != "" {
			u.PasswordHash = hash
		}
		u.Status = statusActive
		u.UpdatedAt = micros(s.now())
		return nil
	})
	return false, err
}
