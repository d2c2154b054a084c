// Package authz enforces who may call each RPC. The rule sits next to the RPC
// in its .proto (option (emporium.auth.v1.access)); one interceptor reads it
// from the method descriptor and checks the caller an Authenticator found.
// An RPC without a rule is refused, and AuditRules lets a test fail on it.
package authz

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// Role names.
const (
	RoleCustomer = "customer"
	RoleStaff    = "staff"
	RoleAdmin    = "admin"
	RoleService  = "service"
)

// Principal is a verified caller.
type Principal struct {
	Subject string // user id, or a service name
	Roles   []string
}

// Has reports whether p holds role.
func (p *Principal) Has(role string) bool { return p != nil && slices.Contains(p.Roles, role) }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller, or nil for an anonymous one.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Authenticator turns request headers into a verified caller. It returns
// (nil, nil) when the request carries no credentials and an error of kind
// errs.Unauthenticated when it carries bad ones.
type Authenticator interface {
	Authenticate(ctx context.Context, h http.Header) (*Principal, error)
}

// StaticTokens authenticates opaque bearer tokens from configuration. It is
// the stand-in until JWT sign-in exists: in `emporium dev` a random staff
// token is made on first start and printed in the banner.
type StaticTokens struct {
	tokens []staticToken
}

type staticToken struct {
	hash      [32]byte
	principal *Principal
}

// NewStaticTokens maps tokens to principals; empty tokens are ignored.
func NewStaticTokens(tokens map[string]*Principal) *StaticTokens {
	s := &StaticTokens{}
	for tok, p := range tokens {
		if tok != "" {
			s.tokens = append(s.tokens, staticToken{hash: sha256.Sum256([]byte(tok)), principal: p})
		}
	}
	return s
}

// Authenticate implements Authenticator.
func (s *StaticTokens) Authenticate(_ context.Context, h http.Header) (*Principal, error) {
	tok, ok, err := BearerToken(h)
	if !ok || err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(tok))
	for _, t := range s.tokens {
		if subtle.ConstantTimeCompare(sum[:], t.hash[:]) == 1 {
			return t.principal, nil
		}
	}
	return nil, errs.Unauthenticatedf("invalid bearer token")
}

// BearerToken extracts the token of an "Authorization: Bearer …" header.
func BearerToken(h http.Header) (token string, present bool, err error) {
	v := h.Get("Authorization")
	if v == "" {
		return "", false, nil
	}
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", true, errs.Unauthenticatedf(`malformed Authorization header: want "Bearer <token>"`)
	}
	return strings.TrimSpace(tok), true, nil
}

// RuleOf returns the access rule declared on a method.
func RuleOf(md protoreflect.MethodDescriptor) authv1.Access {
	if md == nil {
		return authv1.Access_ACCESS_UNSPECIFIED
	}
	return proto.GetExtension(md.Options(), authv1.E_Access).(authv1.Access)
}

// Allowed reports whether p may call a method with rule, as an error of the
// right kind when not.
func Allowed(rule authv1.Access, p *Principal) error {
	switch rule {
	case authv1.Access_ACCESS_PUBLIC:
		return nil
	case authv1.Access_ACCESS_UNSPECIFIED:
		return errs.PermissionDeniedf("this method declares no access rule")
	}
	if p == nil {
		return errs.Unauthenticatedf("sign in first: this method needs credentials")
	}
	var ok bool
	switch rule {
	case authv1.Access_ACCESS_CUSTOMER:
		ok = p.Has(RoleCustomer) || p.Has(RoleStaff) || p.Has(RoleAdmin)
	case authv1.Access_ACCESS_STAFF:
		ok = p.Has(RoleStaff) || p.Has(RoleAdmin)
	case authv1.Access_ACCESS_ADMIN:
		ok = p.Has(RoleAdmin)
	case authv1.Access_ACCESS_INTERNAL:
		ok = p.Has(RoleService)
	}
	if !ok {
		return errs.PermissionDeniedf("your role may not call this method")
	}
	return nil
}

// Interceptor authenticates every call and enforces its method's rule before
// the handler (and before request validation, so anonymous callers learn
// nothing about a staff method's input).
func Interceptor(auth Authenticator) connect.Interceptor {
	return &interceptor{auth: auth}
}

type interceptor struct{ auth Authenticator }

func (i *interceptor) check(ctx context.Context, spec connect.Spec, h http.Header) (context.Context, error) {
	md, _ := spec.Schema.(protoreflect.MethodDescriptor)
	p, err := i.auth.Authenticate(ctx, h)
	if err != nil {
		return ctx, err
	}
	if err := Allowed(RuleOf(md), p); err != nil {
		return ctx, err
	}
	if p != nil {
		ctx = WithPrincipal(ctx, p)
	}
	return ctx, nil
}

func (i *interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := i.check(ctx, req.Spec(), req.Header())
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i *interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i *interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := i.check(ctx, conn.Spec(), conn.RequestHeader())
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// AuditRules lists every method of the given services that declares no
// access rule, as "package.Service/Method".
func AuditRules(services ...protoreflect.ServiceDescriptor) []string {
	var missing []string
	for _, sd := range services {
		methods := sd.Methods()
		for i := range methods.Len() {
			md := methods.Get(i)
			if RuleOf(md) == authv1.Access_ACCESS_UNSPECIFIED {
				missing = append(missing, string(sd.FullName())+"/"+string(md.Name()))
			}
		}
	}
	return missing
}

// Bearer is a client option that sends token as "Authorization: Bearer"
// on every call: how services present the internal credential to each
// other, and how tests sign in.
func Bearer(token string) connect.ClientOption {
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+token)
			return next(ctx, req)
		}
	}))
}
