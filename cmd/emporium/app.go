package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/redis/rueidis"

	"github.com/emporiumhq/emporium/edge"
	"github.com/emporiumhq/emporium/edge/auth"
	"github.com/emporiumhq/emporium/gen/emporium/notification/v1/notificationv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/ratelimit"
	"github.com/emporiumhq/emporium/internal/platform/search/bleve"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/token"
	"github.com/emporiumhq/emporium/svc/notification"
	"github.com/emporiumhq/emporium/svc/order"
	"github.com/emporiumhq/emporium/svc/payment"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
	"github.com/emporiumhq/emporium/svc/shipping"
	"github.com/emporiumhq/emporium/svc/user"
)

// group is a set of Connect services that run together as one deployable
// service, with the extra HTTP paths it serves.
type group struct {
	name     string
	services []string
	paths    []string // path prefixes besides the services' own
	// optional groups may be absent: an edge without them routes none of
	// their paths instead of refusing to start.
	optional bool
}

// groups lists every deployable service behind the edge.
func groups() []group {
	return []group{
		{name: "product", services: product.ServiceNames, paths: []string{"/media/"}},
		{name: "user", services: user.ServiceNames},
		{name: "order", services: order.ServiceNames},
		{name: "payment", services: payment.ServiceNames, paths: []string{"/webhooks/", "/payment-simulator/"}},
		{name: "shipping", services: shipping.ServiceNames, paths: []string{shipping.WebhookPath}},
		{name: "notification", services: notification.ServiceNames, optional: true},
	}
}

// groupNames lists the deployable services by name.
func groupNames() []string {
	var names []string
	for _, g := range groups() {
		names = append(names, g.name)
	}
	return names
}

// tokenAudience is the audience of every access token: all Emporium services.
const tokenAudience = "emporium"

// common are the flags every command has.
type common struct {
	logLevel string
	currency string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.currency, "currency", "USD", "the shop's ISO 4217 currency; every price is in it")
}

func (c *common) logger(stderr io.Writer) (*slog.Logger, error) {
	return logx.New(stderr, c.logLevel)
}

// newFlagSet returns a flag set whose errors and --help go to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("emporium "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: emporium %s [flags]\n\nFlags (each also an environment variable, shown in brackets):\n", name)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(stderr, "  --%s [%s]\n    \t%s (default %q)\n", f.Name, config.EnvName(f.Name), f.Usage, f.DefValue)
		})
	}
	return fs
}

// settings configure a serving process (dev or serve).
type settings struct {
	common
	listen      string
	databaseURL string // serve: every local service, a schema each
	searchPath  string
	cacheTTL    time.Duration
	migrate     bool

	issuer         string
	signingKeys    string
	jwksURL        string
	internalToken  string
	publicURL      string
	redisURL       string
	limits         limitsFlag
	limitPolicy    string
	clientIPHeader string
	oidcProviders  string
	timeouts       timeoutsFlag
	upstreams      upstreams
	corsOrigins    config.List
	balance        balanceFlag
	devMailbox     bool
	webDir         string

	commerce     commerceSettings
	notification notificationSettings
}

// registerServing adds the flags dev and serve share.
func (s *settings) registerServing(fs *flag.FlagSet) {
	s.common.register(fs)
	fs.DurationVar(&s.cacheTTL, "cache-ttl", 2*time.Second,
		"product: keep catalog reads this long; writes through this process show at once, through other replicas after at most this (0 = off)")
	fs.StringVar(&s.issuer, "token-issuer", "emporium", "issuer of access tokens; the edge and every service must agree")
	s.limits = defaultLimits()
	fs.Var(&s.limits, "rate-limits", "edge: token buckets per client as class=rate/s:burst, classes default, auth, login (per address) and login-account; off: no limits")
	fs.StringVar(&s.limitPolicy, "rate-limit-policy", "fail-open", "edge: when the limit store is unreachable, fail-open (allow, logged and counted) or fail-closed")
	fs.StringVar(&s.clientIPHeader, "client-ip-header", "", "edge: header a trusted proxy in front sets to the client address (X-Forwarded-For: its last entry); empty: the peer address")
	s.timeouts = timeoutsFlag{}
	fs.Var(s.timeouts, "route-timeouts", "edge: per-service request deadlines as service=duration, e.g. product=5s,user=10s,auth=10s (default 30s each)")
	fs.StringVar(&s.webDir, "web-dir", "",
		"edge: directory of the built web shop (apps/web/dist) to serve at /; dev: apps/web/dist when it has been built")
	fs.StringVar(&s.oidcProviders, "oidc-providers", "", `edge: OpenID Connect providers as JSON: [{"id","displayName","issuer","clientId","clientSecret","redirectUris":[…]}]`)
	s.notification.register(fs)
}

// limitsFlag is --rate-limits.
type limitsFlag map[string]ratelimit.Limit

func defaultLimits() limitsFlag {
	return limitsFlag{
		"default":       {Rate: 100, Burst: 200},
		"auth":          {Rate: 5, Burst: 20},
		"login":         {Rate: 1, Burst: 10},
		"login-account": {Rate: 0.1, Burst: 5},
	}
}

func (l limitsFlag) String() string {
	var parts []string
	for _, class := range []string{"default", "auth", "login", "login-account"} {
		if v, ok := l[class]; ok {
			parts = append(parts, fmt.Sprintf("%s=%g:%d", class, v.Rate, v.Burst))
		}
	}
	return strings.Join(parts, ",")
}

func (l limitsFlag) Set(s string) error {
	if strings.TrimSpace(s) == "off" {
		clear(l)
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		class, spec, ok1 := strings.Cut(part, "=")
		rate, burst, ok2 := strings.Cut(spec, ":")
		r, err1 := strconv.ParseFloat(rate, 64)
		b, err2 := strconv.Atoi(burst)
		lim := ratelimit.Limit{Rate: r, Burst: b}
		if !ok1 || !ok2 || err1 != nil || err2 != nil || lim.Validate() != nil {
			return fmt.Errorf("%q: want class=rate:burst, e.g. login=0.5:10", part)
		}
		l[class] = lim
	}
	return nil
}

// timeoutsFlag is --route-timeouts: service (group or "auth") → deadline.
type timeoutsFlag map[string]time.Duration

func (t timeoutsFlag) String() string {
	var parts []string
	for _, name := range append(groupNames(), "auth") {
		if d, ok := t[name]; ok {
			parts = append(parts, name+"="+d.String())
		}
	}
	return strings.Join(parts, ",")
}

func (t timeoutsFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, raw, ok := strings.Cut(part, "=")
		d, err := time.ParseDuration(raw)
		if !ok || err != nil || d <= 0 || (name != "auth" && !knownGroup(name)) {
			return fmt.Errorf("%q: want service=duration for %s or auth, e.g. product=5s", part, strings.Join(groupNames(), ", "))
		}
		t[name] = d
	}
	return nil
}

// stack is what one process runs: its local services and, when it runs
// the edge, the edge in front.
type stack struct {
	handler  http.Handler // what the listener serves
	product  *product.Service
	users    *user.Service
	orders   *order.Service
	payments *payment.Service
	mail     *mailbox.Mailbox
	closers  []func()
}

func (s *stack) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// plan says what a process runs and where its data is.
type plan struct {
	product, user, order, payment, shipping, edge bool
	productDB, userDB, orderDB, paymentDB         string // database URLs
	notification                                  bool
	shippingDB, notificationDB                    string
	landing                                       bool   // serve the landing page at / when there is no webDir
	webDir                                        string // serve the built web app from here at /
}

// assemble opens the local services and, when the edge runs here, builds it
// in front of them (in-process routes) and of the upstreams (proxied).
func assemble(ctx context.Context, log *slog.Logger, s *settings, p plan) (_ *stack, err error) {
	st := &stack{mail: mailbox.New()}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	var keys *token.KeySet
	if p.edge {
		if keys, err = token.LoadKeySet(s.signingKeys); err != nil {
			return nil, fmt.Errorf("signing keys %s: %w", s.signingKeys, err)
		}
	}
	verifier, err := newVerifier(ctx, log, s, keys)
	if err != nil {
		return nil, err
	}
	authn := authz.Either(verifier, authz.InternalCredential(s.internalToken))
	opts, err := serve.HandlerOptions(log, authn)
	if err != nil {
		return nil, err
	}

	local := map[string]http.Handler{}
	peers := &peers{local: local, upstreams: s.upstreams, internal: internalCredential(s.internalToken)}
	if p.product {
		svc, closeProduct, err := openProduct(ctx, log, p.productDB, s.searchPath, s.currency, s.cacheTTL, s.migrate)
		if err != nil {
			return nil, err
		}
		st.product, st.closers = svc, append(st.closers, closeProduct)
		go svc.RunExpiry(ctx, 30*time.Second) // stock held by abandoned checkouts comes back
		mux := http.NewServeMux()
		svc.Mount(mux, opts...)
		mux.Handle("/media/products/", seed.Images())
		local["product"] = mux
	}
	if p.user {
		svc, closeUser, err := openUser(ctx, log, p.userDB, s.publicURL, st.mail, notificationClient(s, p, peers), s.commerce.jobPoll, s.migrate)
		if err != nil {
			return nil, err
		}
		st.users, st.closers = svc, append(st.closers, closeUser)
		if err := svc.Start(ctx); err != nil {
			return nil, err
		}
		st.closers = append(st.closers, func() { stopJobs(log, "user", svc.Stop) })
		mux := http.NewServeMux()
		svc.Mount(mux, opts...)
		local["user"] = mux
	}
	if p.notification {
		if err := openNotification(ctx, log, s, p, st, peers, opts); err != nil {
			return nil, err
		}
	}
	if err := assembleCommerce(ctx, log, s, p, st, peers, opts); err != nil {
		return nil, err
	}
	if !p.edge {
		st.handler = localServices(local)
		return st, nil
	}
	st.handler, err = buildEdge(ctx, log, s, p, st, peers, keys, verifier, opts)
	return st, err
}

// localServices serves the services of a process without the edge: each
// group's paths, plus health checks and reflection for all of them.
func localServices(local map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	var names []string
	for _, g := range groups() {
		h, ok := local[g.name]
		if !ok {
			continue
		}
		names = append(names, g.services...)
		for _, prefix := range prefixes(g) {
			mux.Handle(prefix, h)
		}
	}
	serve.Introspection(mux, names...)
	serve.Healthz(mux)
	return mux
}

// newVerifier verifies access tokens: with the signing keys when the edge
// runs in this process, else against the edge's JWKS.
func newVerifier(ctx context.Context, log *slog.Logger, s *settings, keys *token.KeySet) (*token.Verifier, error) {
	if keys != nil {
		return token.NewStaticVerifier(keys, s.issuer, tokenAudience, token.WithCache(100_000))
	}
	if s.jwksURL == "" {
		return nil, errors.New("--jwks-url is required when the edge runs in another process (e.g. http://edge:8080/.well-known/jwks.json)")
	}
	v, err := token.NewVerifier(s.jwksURL, s.issuer, tokenAudience, token.WithCache(100_000))
	if err != nil {
		return nil, err
	}
	if err := v.Refresh(ctx); err != nil {
		log.Warn("cannot fetch the JWKS yet; signed-in calls fail until it can", "url", s.jwksURL, "err", err)
	}
	return v, nil
}

// buildEdge is the public handler: AuthService, JWKS, limits, and a route
// for every group, in-process when local, else proxied to its upstreams.
func buildEdge(ctx context.Context, log *slog.Logger, s *settings, p plan, st *stack, peers *peers,
	keys *token.KeySet, verifier *token.Verifier, opts []connect.HandlerOption,
) (http.Handler, error) {
	var rdb rueidis.Client
	if s.redisURL != "" {
		o, err := rueidis.ParseURL(s.redisURL)
		if err != nil {
			return nil, fmt.Errorf("--redis-url: %w", err)
		}
		if rdb, err = rueidis.NewClient(o); err != nil {
			return nil, fmt.Errorf("redis %s: %w", o.InitAddress, err)
		}
		st.closers = append(st.closers, rdb.Close)
	}

	var routes []edge.Route
	var names []string
	for _, g := range groups() {
		names = append(names, g.services...)
		timeout := s.timeouts[g.name]
		if h, ok := peers.local[g.name]; ok {
			routes = append(routes, inProcessRoutes(g, h, timeout)...)
			continue
		}
		targets := s.upstreams[g.name]
		if len(targets) == 0 && g.optional {
			log.Info("edge: not routing an optional service that runs nowhere", "service", g.name)
			continue
		}
		if len(targets) == 0 {
			return nil, fmt.Errorf("edge: no upstream for %s: pass --upstream %s=http://host:port, or run it here with --services=%s,edge", g.name, g.name, g.name)
		}
		health := &edge.HealthCheck{Service: g.services[0]}
		for _, prefix := range prefixes(g) {
			routes = append(routes, edge.Route{Prefix: prefix, Targets: targets, Balance: edge.Balance(s.balance), Health: health, Timeout: timeout})
		}
	}
	for name := range s.upstreams {
		if _, ok := peers.local[name]; ok || !knownGroup(name) {
			return nil, fmt.Errorf("--upstream: %q is not a service this edge routes elsewhere", name)
		}
	}

	authSvc, limiter, err := newAuth(log, s, st, peers, keys, rdb)
	if err != nil {
		return nil, err
	}
	authMux := http.NewServeMux()
	authSvc.Mount(authMux, opts...)
	names = append(names, auth.ServiceNames...)
	routes = append(routes,
		edge.Route{Prefix: edge.ServicePrefix(auth.ServiceNames[0]), Handler: authMux, Timeout: s.timeouts["auth"]},
		edge.Route{Prefix: "/.well-known/", Handler: http.StripPrefix("", jwksOnly(token.JWKSHandler(keys)))},
	)
	if s.devMailbox {
		routes = append(routes, edge.Route{Prefix: "/dev/", Handler: devMailbox(st.mail)})
	}
	switch {
	case p.webDir != "":
		app, err := edge.Static(p.webDir)
		if err != nil {
			return nil, fmt.Errorf("--web-dir: %w", err)
		}
		routes = append(routes, edge.Route{Prefix: "/", Handler: app})
	case p.landing:
		routes = append(routes, edge.Route{Prefix: "/", Handler: landingPage()})
	}
	var limits *edge.Limits
	if len(s.limits) > 0 {
		limits = &edge.Limits{
			Limiter: limiter,
			Classes: classesOf(s.limits, "default", "auth", "login"),
			Routes: map[string]string{
				"/emporium.auth.v1.AuthService/":                     "auth",
				"/emporium.auth.v1.AuthService/Login":                "login",
				"/emporium.user.v1.UserService/Register":             "login",
				"/emporium.user.v1.UserService/RequestPasswordReset": "login",
				"/emporium.user.v1.UserService/ResetPassword":        "login",
			},
			User:     func(r *http.Request) string { return verifiedSubject(r, verifier) },
			ClientIP: edge.ClientIPFrom(s.clientIPHeader),
		}
	}
	return edge.New(ctx, edge.Config{Routes: routes, CORSOrigins: s.corsOrigins, Services: names, Log: log, Limits: limits})
}

// classesOf picks the named classes that have a limit.
func classesOf(l limitsFlag, names ...string) map[string]ratelimit.Limit {
	out := map[string]ratelimit.Limit{}
	for _, n := range names {
		if v, ok := l[n]; ok {
			out[n] = v
		}
	}
	return out
}

func prefixes(g group) []string {
	var out []string
	for _, s := range g.services {
		out = append(out, edge.ServicePrefix(s))
	}
	return append(out, g.paths...)
}

func knownGroup(name string) bool {
	for _, g := range groups() {
		if g.name == name {
			return true
		}
	}
	return false
}

// inProcessRoutes routes every path of g to h.
func inProcessRoutes(g group, h http.Handler, timeout time.Duration) []edge.Route {
	var routes []edge.Route
	for _, prefix := range prefixes(g) {
		routes = append(routes, edge.Route{Prefix: prefix, Handler: h, Timeout: timeout})
	}
	return routes
}

// newAuth builds AuthService and the limit store the edge shares with it:
// Redis when configured (several edges share sessions and buckets), else
// this process's memory.
func newAuth(log *slog.Logger, s *settings, st *stack, peers *peers, keys *token.KeySet, rdb rueidis.Client) (*auth.Service, ratelimit.Limiter, error) {
	if s.internalToken == "" {
		return nil, nil, errors.New("--internal-token is required: the edge presents it to the user service's internal methods")
	}
	client, userURL, err := peers.client("user")
	if err != nil {
		return nil, nil, err
	}
	users := userv1connect.NewUserServiceClient(client, userURL, connect.WithInterceptors(peers.internal))

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
	switch s.limitPolicy {
	case "fail-open":
	case "fail-closed":
		policy = ratelimit.FailClosed
	default:
		return nil, nil, fmt.Errorf("--rate-limit-policy %q: want fail-open or fail-closed", s.limitPolicy)
	}
	limiter = ratelimit.NewGuarded(limiter, policy, log)

	var providers []auth.ProviderConfig
	if s.oidcProviders != "" {
		if err := json.Unmarshal([]byte(s.oidcProviders), &providers); err != nil {
			return nil, nil, fmt.Errorf("--oidc-providers: %w", err)
		}
	}
	accountLimiter, accountLimit := limiter, s.limits["login-account"]
	if _, ok := s.limits["login-account"]; !ok {
		accountLimiter = nil
	}
	svc, err := auth.New(auth.Deps{
		Users:        users,
		Signer:       &token.Signer{Keys: keys, Issuer: s.issuer, Audience: tokenAudience},
		Refresher:    &token.Refresher{Store: store},
		Limiter:      accountLimiter,
		AccountLimit: accountLimit,
		Providers:    providers,
		Pending:      pending,
		Log:          log,
	})
	return svc, limiter, err
}

// verifiedSubject is the user a request's bearer token names, when the token
// verifies; rate limits then count per account.
func verifiedSubject(r *http.Request, v *token.Verifier) string {
	tok, ok, err := authz.BearerToken(r.Header)
	if !ok || err != nil || strings.Count(tok, ".") != 2 {
		return ""
	}
	c, err := v.Verify(r.Context(), tok)
	if err != nil {
		return ""
	}
	return c.Subject
}

func internalCredential(secret string) connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+secret)
			return next(ctx, req)
		}
	})
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

// devMailbox shows the messages the shop would have sent, at /dev/mailbox.
// It holds live reset links, so only dev (or --dev-mailbox) serves it.
func devMailbox(mb *mailbox.Mailbox) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/dev/mailbox", mb.Handler())
	return mux
}

// openProduct opens the product service's database and index, migrating
// the database first when migrate is set.
func openProduct(ctx context.Context, log *slog.Logger, dbURL, searchPath, currency string, cacheTTL time.Duration, migrate bool) (*product.Service, func(), error) {
	d, err := openDB(ctx, log, dbURL, "product", sqlFiles(product.Migrations), migrate)
	if err != nil {
		return nil, nil, err
	}
	idx, err := bleve.Open(filepath.Join(searchPath, "products.bleve"))
	if err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("open search index: %w", err)
	}
	svc, err := product.New(product.Deps{DB: d, Index: idx, Currency: currency, Log: log, CacheTTL: cacheTTL})
	if err != nil {
		idx.Close()
		d.Close()
		return nil, nil, err
	}
	return svc, func() { idx.Close(); d.Close() }, nil
}

// openUser opens the user service; its links go through notify's outbox
// (the caller Starts it) when there is a notification service, else
// straight to mail.
func openUser(ctx context.Context, log *slog.Logger, dbURL, publicURL string, mail mailbox.Sender,
	notify notificationv1connect.NotificationServiceClient, jobPoll time.Duration, migrate bool,
) (*user.Service, func(), error) {
	d, err := openDB(ctx, log, dbURL, "user", user.Migrate, migrate)
	if err != nil {
		return nil, nil, err
	}
	svc, err := user.New(user.Deps{DB: d, Mail: mail, Notifications: notify, JobPoll: jobPoll, PublicURL: publicURL, Log: log})
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return svc, func() { d.Close() }, nil
}
