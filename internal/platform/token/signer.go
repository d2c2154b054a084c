package token

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/emporiumhq/emporium/internal/platform/authz"
)

const (
	alg = "EdDSA"
	// typ marks our access tokens (RFC 9068), so that no other JWT signed
	// with the same keys (an OIDC ID token, say) passes for one.
	typ = "at+jwt"

	// DefaultAccessTTL is how long an access token lives unless Signer.TTL
	// says otherwise.
	DefaultAccessTTL = 15 * time.Minute
)

// UserRoles are the roles an access token may carry. authz.RoleService is
// deliberately absent: no user token can call internal methods.
var UserRoles = []string{authz.RoleCustomer, authz.RoleStaff, authz.RoleAdmin}

// Claims are the verified contents of an access token.
type Claims struct {
	Issuer    string
	Audience  []string
	Subject   string // user id
	Roles     []string
	SessionID string // sid: the refresh-token family of the login session
	ID        string // jti
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
	KeyID     string // kid of the key that signed the token
}

// wireClaims is the JSON payload of an access token.
type wireClaims struct {
	jwt.RegisteredClaims
	Roles     []string `json:"roles"`
	SessionID string   `json:"sid,omitempty"`
}

// Signer issues access tokens signed with the active key of Keys.
type Signer struct {
	Keys     *KeySet
	Issuer   string           // iss, e.g. the edge's public URL
	Audience string           // aud, e.g. "emporium"
	TTL      time.Duration    // DefaultAccessTTL when zero
	Now      func() time.Time // time.Now when nil
}

// Sign returns an access token for subject (a user id) with roles (each one
// of UserRoles) in login session sessionID, and when it expires.
func (s *Signer) Sign(subject string, roles []string, sessionID string) (token string, expires time.Time, err error) {
	switch {
	case s.Keys == nil:
		return "", time.Time{}, errors.New("token: Signer has no keys")
	case s.Issuer == "" || s.Audience == "":
		return "", time.Time{}, errors.New("token: Signer needs an Issuer and an Audience")
	case subject == "":
		return "", time.Time{}, errors.New("token: sign: empty subject")
	}
	for _, r := range roles {
		if !slices.Contains(UserRoles, r) {
			return "", time.Time{}, fmt.Errorf("token: sign: role %q is not one of %q", r, UserRoles)
		}
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultAccessTTL
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	iat := now().Truncate(time.Second) // NumericDate has whole seconds
	exp := iat.Add(ttl)
	if roles == nil {
		roles = []string{}
	}
	claims := wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.Issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{s.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(iat),
			IssuedAt:  jwt.NewNumericDate(iat),
			ID:        randomString(16),
		},
		Roles:     roles,
		SessionID: sessionID,
	}
	kid, priv := s.Keys.signingKey()
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = kid
	t.Header["typ"] = typ
	signed, err := t.SignedString(priv)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token: sign: %w", err)
	}
	return signed, exp, nil
}

// randomString returns n random bytes, base64url without padding.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return b64.EncodeToString(b)
}
