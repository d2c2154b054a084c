package user

import (
	"slices"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/protobuf/types/known/timestamppb"

	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/internal/platform/authz"
)

type userRow struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID                string `bun:",pk"`
	Email             string // trimmed, lower-cased
	EmailVerified     bool
	PasswordHash      string // PHC argon2id, "" when the account has no password
	DisplayName       string
	Phone             string
	Locale            string
	MarketingOptIn    bool
	Roles             []string `bun:",type:text"` // authz role names
	Status            int32
	SessionsNotBefore int64 // Unix µs, 0 for none
	CreatedAt         int64 // Unix µs
	UpdatedAt         int64 // Unix µs
}

type addressRow struct {
	bun.BaseModel `bun:"table:addresses,alias:a"`

	ID              string `bun:",pk"`
	UserID          string
	Name            string
	Company         string
	Line1           string `bun:"line1"`
	Line2           string `bun:"line2"`
	City            string
	Region          string
	PostalCode      string
	Country         string
	Phone           string
	DefaultShipping bool
	DefaultBilling  bool
	CreatedAt       int64
	UpdatedAt       int64
}

// Token purposes.
const (
	purposeVerifyEmail   = "verify_email"
	purposeResetPassword = "reset_password"
)

type tokenRow struct {
	bun.BaseModel `bun:"table:user_tokens,alias:t"`

	TokenHash string `bun:",pk"` // hex SHA-256 of the token
	UserID    string
	Purpose   string
	ExpiresAt int64
	UsedAt    *int64
	CreatedAt int64
}

type identityRow struct {
	bun.BaseModel `bun:"table:external_identities,alias:ei"`

	Issuer    string `bun:",pk"`
	Subject   string `bun:",pk"`
	UserID    string
	Email     string
	CreatedAt int64
}

var (
	statusActive   = int32(userv1.UserStatus_USER_STATUS_ACTIVE)
	statusDisabled = int32(userv1.UserStatus_USER_STATUS_DISABLED)
)

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func timestamp(us int64) *timestamppb.Timestamp {
	if us == 0 {
		return nil
	}
	return timestamppb.New(time.UnixMicro(us))
}

// roleNames maps the API's roles to the names authz checks.
var roleNames = map[userv1.Role]string{
	userv1.Role_ROLE_CUSTOMER: authz.RoleCustomer,
	userv1.Role_ROLE_STAFF:    authz.RoleStaff,
	userv1.Role_ROLE_ADMIN:    authz.RoleAdmin,
}

func rolesToProto(names []string) []userv1.Role {
	out := make([]userv1.Role, 0, len(names))
	for r, name := range roleNames {
		if slices.Contains(names, name) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// roleNamesOf returns the names of roles in a fixed order (customer, staff,
// admin), without duplicates.
func roleNamesOf(roles []userv1.Role) []string {
	rs := slices.Clone(roles)
	slices.Sort(rs)
	rs = slices.Compact(rs)
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if name, ok := roleNames[r]; ok {
			out = append(out, name)
		}
	}
	return out
}

func (u *userRow) hasRole(name string) bool { return slices.Contains(u.Roles, name) }

func (u *userRow) toProto() *userv1.User {
	return &userv1.User{
		Id:             u.ID,
		Email:          u.Email,
		EmailVerified:  u.EmailVerified,
		DisplayName:    u.DisplayName,
		Phone:          u.Phone,
		Locale:         u.Locale,
		MarketingOptIn: u.MarketingOptIn,
		Roles:          rolesToProto(u.Roles),
		Status:         userv1.UserStatus(u.Status),
		CreateTime:     timestamp(u.CreatedAt),
		UpdateTime:     timestamp(u.UpdatedAt),
	}
}

func (u *userRow) subject() *userv1.Subject {
	return &userv1.Subject{
		UserId:            u.ID,
		Roles:             rolesToProto(u.Roles),
		Status:            userv1.UserStatus(u.Status),
		SessionsNotBefore: timestamp(u.SessionsNotBefore),
	}
}

func (a *addressRow) toProto() *userv1.Address {
	return &userv1.Address{
		Id:              a.ID,
		Name:            a.Name,
		Company:         a.Company,
		Line1:           a.Line1,
		Line2:           a.Line2,
		City:            a.City,
		Region:          a.Region,
		PostalCode:      a.PostalCode,
		Country:         a.Country,
		Phone:           a.Phone,
		DefaultShipping: a.DefaultShipping,
		DefaultBilling:  a.DefaultBilling,
	}
}
