package authz

import (
	"context"
	"net/http"
	"strings"
)

// Either authenticates a bearer token that looks like a JWT (three dot-
// separated parts) with jwt, and any other with opaque: user access tokens
// and the internal service credential travel in the same header.
func Either(jwt, opaque Authenticator) Authenticator {
	return either{jwt: jwt, opaque: opaque}
}

type either struct{ jwt, opaque Authenticator }

func (e either) Authenticate(ctx context.Context, h http.Header) (*Principal, error) {
	tok, present, err := BearerToken(h)
	if !present || err != nil {
		return nil, err
	}
	if strings.Count(tok, ".") == 2 {
		return e.jwt.Authenticate(ctx, h)
	}
	return e.opaque.Authenticate(ctx, h)
}

// InternalCredential returns an authenticator for the shared secret other
// Emporium services present when calling internal methods, as the principal
// with the service role. An empty secret authenticates no one.
func InternalCredential(secret string) Authenticator {
	return NewStaticTokens(map[string]*Principal{secret: {Subject: "emporium-internal", Roles: []string{RoleService}}})
}
