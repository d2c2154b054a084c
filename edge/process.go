package edge

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/redis/rueidis"

	"github.com/emporiumhq/emporium/edge/auth"
	"github.com/emporiumhq/emporium/gen/emporium/auth/v1/authv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/kv"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/internal/platform/ratelimit"
	"github.com/emporiumhq/emporium/internal/platform/token"
)

// Settings configure an edge process: what `emporium dev` and `emporium
// serve` read from their flags.
type Settings struct {
	SigningKeys    string // file of the access-token signing keys
	RedisURL       string // sessions, sign-in state and limits shared by replicas; "": this process's memory
	Limits         LimitsFlag
	LimitPolicy    string // fail-open or fail-closed
	ClientIPHeader string
	OIDCProviders  string // JSON
	Timeouts       TimeoutsFlag
	CORSOrigins    config.List
	Balance        BalanceFlag
	WebDir         string // the built web shop, served at /
	AdminDir       string // the built admin panel, served at /admin/
}

// Register adds the edge flags dev and serve share; services are the names
// --route-timeouts accepts besides "auth".
func (s *Settings) Register(fs *flag.FlagSet, services []string) {
	s.Limits = DefaultLimits()
	fs.Var(&s.Limits, "rate-limits", "edge: token buckets per client as class=rate/s:burst, classes default, auth, login (per address), login-account (password attempts per account and address) and login-account-all (per account from anywhere); off: no limits")
	fs.StringVar(&s.LimitPolicy, "rate-limit-policy", "fail-open", "edge: when the limit store is unreachable, fail-open (allow, logged and counted) or fail-closed")
	fs.StringVar(&s.ClientIPHeader, "client-ip-header", "", "edge: header a trusted proxy in front sets to the client address (X-Forwarded-For: its last entry); empty: the peer address")
	s.Timeouts = TimeoutsFlag{names: append(slices.Clone(services), "auth"), d: map[string]time.Duration{}}
	fs.Var(s.Timeouts, "route-timeouts", "edge: per-service request deadlines as service=duration, e.g. product=5s,user=10s,auth=10s (default 30s each)")
	fs.StringVar(&s.WebDir, "web-dir", "",
		"edge: directory of the built web shop (apps/web/dist) to serve at /; dev: apps/web/dist when it has been built")
	fs.StringVar(&s.AdminDir, "admin-dir", "",
		"edge: directory of the built admin panel (apps/admin/dist) to serve at /admin/; dev: apps/admin/dist when it has been built")
	fs.StringVar(&s.OIDCProviders, "oidc-providers", "", `edge: OpenID Connect providers as JSON: [{"id","displayName","issuer","clientId","clientSecret","redirectUris":[…]}]`)
	s.Balance = BalanceFlag(LeastRequests)
}

// Backend is a service behind the edge: in this process (Handler) or at
// its upstream replicas (Targets).
type Backend struct {
	Name    string
	Routes  module.Routes
	Handler http.Handler
	Targets []*url.URL
}

// Setup is what an edge process is built from besides its Settings.
type Setup struct {
	Backends []Backend
	// Keys sign access tokens; Verifier checks them for per-account limits.
	Keys     *token.KeySet
	Verifier *token.Verifier
	// Revocations end access tokens at sign-out; the Verifier, and every
	// service's, must check the same ones. Nil: sign-out ends only the
	// refresh token.
	Revocations token.Revocations
	Issuer      string
	Audience    string
	// Users is the user service, called with the internal credential.
	Users userv1connect.UserServiceClient
	// Handler are the options AuthService is mounted with.
	Handler []connect.HandlerOption
	// Extra are routes of the process's own: the dev mailbox, a landing page.
	Extra []Route
	Log   *slog.Logger
}

// Open builds the public handler: AuthService, the JWKS, limits, and a
// route for every backend. close releases the Redis client, if any.
func Open(ctx context.Context, s *Settings, in Setup) (_ http.Handler, close func(), err error) {
	close = func() {}
	var rdb rueidis.Client
	if s.RedisURL != "" {
		if rdb, err = kv.Open(s.RedisURL); err != nil {
			return nil, close, err
		}
		close = rdb.Close
	}
	routes, names, limitRoutes, err := backendRoutes(s, in)
	if err != nil {
		return nil, close, err
	}
	authSvc, limiter, err := newAuth(s, in, rdb)
	if err != nil {
		return nil, close, err
	}
	authMux := http.NewServeMux()
	authSvc.Mount(authMux, in.Handler...)
	clientIP := ClientIPFrom(s.ClientIPHeader)
	withClientIP := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authMux.ServeHTTP(w, r.WithContext(auth.ContextWithClientIP(r.Context(), clientIP(r))))
	})
	names = append(names, auth.ServiceNames...)
	routes = append(routes,
		Route{Prefix: ServicePrefix(authv1connect.AuthServiceName), Handler: withClientIP, Timeout: s.Timeouts.d["auth"]},
		Route{Prefix: "/.well-known/", Handler: jwksOnly(token.JWKSHandler(in.Keys))},
		Route{Prefix: "/openapi/", Handler: OpenAPI()},
	)
	routes = append(routes, in.Extra...)
	if s.WebDir != "" {
		app, err := Static(s.WebDir)
		if err != nil {
			return nil, close, fmt.Errorf("--web-dir: %w", err)
		}
		routes = append(routes, Route{Prefix: "/", Handler: app})
	}
	if s.AdminDir != "" {
		admin, err := StaticAdmin(s.AdminDir)
		if err != nil {
			return nil, close, fmt.Errorf("--admin-dir: %w", err)
		}
		routes = append(routes, Route{Prefix: AdminPrefix, Handler: admin})
	}
	var limits *Limits
	if len(s.Limits) > 0 {
		limits = &Limits{
			Limiter:  limiter,
			Classes:  s.Limits.classes("default", "auth", "login"),
			Routes:   limitRoutes,
			ClientIP: clientIP,
		}
	}
	h, err := New(ctx, Config{Routes: routes, CORSOrigins: s.CORSOrigins, Services: names, Log: in.Log, Limits: limits,
		Caller: func(r *http.Request) Caller { return tokenCaller(r, in.Verifier) }})
	return h, close, err
}

// backendRoutes routes every backend's paths, in-process or to its
// upstreams, and collects the services' names and rate-limit classes.
func backendRoutes(s *Settings, in Setup) (routes []Route, names []string, limitRoutes map[string]string, err error) {
	limitRoutes = map[string]string{
		ServicePrefix(authv1connect.AuthServiceName): "auth",
		authv1connect.AuthServiceLoginProcedure:      "login",
	}
	for _, b := range in.Backends {
		names = append(names, b.Routes.Services...)
		for proc, class := range b.Routes.Limits {
			limitRoutes[proc] = class
		}
		timeout := s.Timeouts.d[b.Name]
		// One route for all the backend's prefixes: one pool of its
		// replicas.
		prefixes := b.Routes.Prefixes()
		switch {
		case len(prefixes) == 0:
			return nil, nil, nil, fmt.Errorf("edge: backend %s serves no paths", b.Name)
		case b.Handler != nil:
			routes = append(routes, Route{Prefix: prefixes[0], Also: prefixes[1:], Handler: b.Handler, Timeout: timeout})
		case len(b.Targets) > 0:
			routes = append(routes, Route{Prefix: prefixes[0], Also: prefixes[1:], Targets: b.Targets, Balance: Balance(s.Balance),
				Health: &HealthCheck{Service: b.Routes.Services[0]}, Timeout: timeout})
		case b.Routes.Optional:
			in.Log.Info("edge: not routing an optional service that runs nowhere", "service", b.Name)
		default:
			return nil, nil, nil, fmt.Errorf("edge: no upstream for %s: pass --upstream %s=http://host:port, or run it here with --services=%s,edge", b.Name, b.Name, b.Name)
		}
	}
	return routes, names, limitRoutes, nil
}

// newAuth builds AuthService and the limit store the edge shares with it:
// Redis when configured (several edges share sessions and buckets), else
// this process's memory.
func newAuth(s *Settings, in Setup, rdb rueidis.Client) (*auth.Service, ratelimit.Limiter, error) {
	var (
		store   token.Store
		pending auth.PendingStore
		limiter ratelimit.Limiter
	)
	if rdb != nil {
		store, pending, limiter = token.NewRedisStore(rdb, "emporium:"), auth.NewRedisPending(rdb, "emporium:oidc:"), ratelimit.NewRedis(rdb, "emporium:rl:")
	} else {
		store, pending, limiter = token.NewMemoryStore(), auth.NewMemoryPending(nil), ratelimit.NewMemory(nil)
	}
	policy := ratelimit.FailOpen
	switch s.LimitPolicy {
	case "fail-open":
	case "fail-closed":
		policy = ratelimit.FailClosed
	default:
		return nil, nil, fmt.Errorf("--rate-limit-policy %q: want fail-open or fail-closed", s.LimitPolicy)
	}
	limiter = ratelimit.NewGuarded(limiter, policy, in.Log)

	var providers []auth.ProviderConfig
	if s.OIDCProviders != "" {
		if err := json.Unmarshal([]byte(s.OIDCProviders), &providers); err != nil {
			return nil, nil, fmt.Errorf("--oidc-providers: %w", err)
		}
	}
	accountLimit, ok := s.Limits["login-account"]
	accountLimiter := limiter
	if !ok {
		accountLimiter = nil
	}
	accountWide := s.Limits["login-account-all"] // zero when absent: off
	svc, err := auth.New(auth.Deps{
		Users:            in.Users,
		Signer:           &token.Signer{Keys: in.Keys, Issuer: in.Issuer, Audience: in.Audience},
		Refresher:        &token.Refresher{Store: store, Revocations: in.Revocations},
		Limiter:          accountLimiter,
		AccountLimit:     accountLimit,
		AccountWideLimit: accountWide,
		Providers:        providers,
		Pending:          pending,
		Log:              in.Log,
	})
	return svc, limiter, err
}

// tokenCaller verifies a request's bearer token: its user when it is valid
// (rate limits then count per account), or that it is one of ours and was
// revoked. Any other token is left to the services to judge.
func tokenCaller(r *http.Request, v *token.Verifier) Caller {
	tok, ok, err := authz.BearerToken(r.Header)
	if !ok || err != nil || strings.Count(tok, ".") != 2 {
		return Caller{}
	}
	c, err := v.Verify(r.Context(), tok)
	switch {
	case err == nil:
		return Caller{Subject: c.Subject}
	case errors.Is(err, token.ErrRevoked):
		return Caller{Revoked: true}
	}
	return Caller{}
}

// jwksOnly serves the key set at /.well-known/jwks.json and nothing else
// under /.well-known/.
func jwksOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// LimitsFlag is --rate-limits: class → limit.
type LimitsFlag map[string]ratelimit.Limit

// DefaultLimits are the limits without --rate-limits.
func DefaultLimits() LimitsFlag {
	return LimitsFlag{
		"default":       {Rate: 100, Burst: 200},
		"auth":          {Rate: 5, Burst: 20},
		"login":         {Rate: 1, Burst: 10},
		"login-account": {Rate: 0.1, Burst: 5},
		// Loose enough that an attacker needs ten addresses to drain it at
		// login-account's pace, tight enough to stop guessing spread wide.
		"login-account-all": {Rate: 1, Burst: 50},
	}
}

func (l LimitsFlag) String() string {
	var parts []string
	for _, class := range []string{"default", "auth", "login", "login-account", "login-account-all"} {
		if v, ok := l[class]; ok {
			parts = append(parts, fmt.Sprintf("%s=%g:%d", class, v.Rate, v.Burst))
		}
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value: "class=rate:burst,…", or "off".
func (l LimitsFlag) Set(s string) error {
	if strings.TrimSpace(s) == "off" {
		clear(l)
		return nil
	}
	return eachPart(s, func(part string) error {
		class, spec, ok1 := strings.Cut(part, "=")
		rate, burst, ok2 := strings.Cut(spec, ":")
		r, err1 := strconv.ParseFloat(rate, 64)
		b, err2 := strconv.Atoi(burst)
		lim := ratelimit.Limit{Rate: r, Burst: b}
		if !ok1 || !ok2 || err1 != nil || err2 != nil || lim.Validate() != nil {
			return fmt.Errorf("%q: want class=rate:burst, e.g. login=0.5:10", part)
		}
		l[class] = lim
		return nil
	})
}

// classes picks the named classes that have a limit.
func (l LimitsFlag) classes(names ...string) map[string]ratelimit.Limit {
	out := map[string]ratelimit.Limit{}
	for _, n := range names {
		if v, ok := l[n]; ok {
			out[n] = v
		}
	}
	return out
}

// TimeoutsFlag is --route-timeouts: service (or "auth") → deadline.
type TimeoutsFlag struct {
	names []string // the services and auth
	d     map[string]time.Duration
}

func (t TimeoutsFlag) String() string {
	var parts []string
	for _, name := range t.names {
		if d, ok := t.d[name]; ok {
			parts = append(parts, name+"="+d.String())
		}
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value: "service=duration,…".
func (t TimeoutsFlag) Set(s string) error {
	return eachPart(s, func(part string) error {
		name, raw, ok := strings.Cut(part, "=")
		d, err := time.ParseDuration(raw)
		if !ok || err != nil || d <= 0 || !slices.Contains(t.names, name) {
			return fmt.Errorf("%q: want service=duration for %s, e.g. product=5s", part, strings.Join(t.names, ", "))
		}
		t.d[name] = d
		return nil
	})
}

// Upstreams is the --upstream flag: service → replica URLs, given as
// "product=http://10.0.0.5:8081,http://10.0.0.6:8081;order=http://…".
type Upstreams map[string][]*url.URL

func (u Upstreams) String() string {
	var parts []string
	for name, targets := range u {
		var ts []string
		for _, t := range targets {
			ts = append(ts, t.String())
		}
		parts = append(parts, name+"="+strings.Join(ts, ","))
	}
	slices.Sort(parts)
	return strings.Join(parts, ";")
}

// Set implements flag.Value.
func (u Upstreams) Set(s string) error {
	for _, part := range strings.Split(s, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, list, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("%q: want service=http://host:port[,http://host:port…]", part)
		}
		for _, raw := range strings.Split(list, ",") {
			t, err := url.Parse(strings.TrimSpace(raw))
			if err != nil || (t.Scheme != "http" && t.Scheme != "https") || t.Host == "" {
				return fmt.Errorf("upstream %q of %s: want an http:// URL", raw, name)
			}
			u[name] = append(u[name], t)
		}
	}
	return nil
}

// BalanceFlag is the --balance flag.
type BalanceFlag Balance

func (b *BalanceFlag) String() string {
	if Balance(*b) == RoundRobin {
		return "round-robin"
	}
	return "least-requests"
}

// Set implements flag.Value.
func (b *BalanceFlag) Set(s string) error {
	switch s {
	case "round-robin":
		*b = BalanceFlag(RoundRobin)
	case "least-requests":
		*b = BalanceFlag(LeastRequests)
	default:
		return fmt.Errorf("%q: want least-requests or round-robin", s)
	}
	return nil
}

// eachPart calls f with each non-empty, trimmed part of a comma-separated
// list, stopping at the first error.
func eachPart(s string, f func(string) error) error {
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if err := f(part); err != nil {
			return err
		}
	}
	return nil
}
