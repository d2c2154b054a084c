package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel"

	"github.com/emporiumhq/emporium/edge"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/jobs"
	"github.com/emporiumhq/emporium/internal/platform/kv"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/telemetry"
	"github.com/emporiumhq/emporium/internal/platform/token"
)

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

// settings configure a serving process (dev or serve).
type settings struct {
	common
	mods          []module.Module // every service's module, with its flags
	listen        string
	adminListen   string // /metrics and /healthz, never behind the edge
	pprof         bool   // profiles on the admin listener
	databaseURL   string // serve: every local service, a schema each; dev: empty (SQLite files)
	dbMaxConns    int    // each service's PostgreSQL pool; 0: db.DefaultMaxConns
	dataDir       string // where embedded defaults keep files
	migrate       bool
	jobPoll       time.Duration
	jobTimeout    time.Duration
	publicURL     string
	internalToken string
	issuer        string
	jwksURL       string
	upstreams     edge.Upstreams
	devMailbox    bool
	getenv        func(string) string // for modules' secrets (S3 keys)
	edge          edge.Settings
}

// registerServing adds the flags dev and serve share, every service's
// among them.
func (s *settings) registerServing(fs *flag.FlagSet) {
	s.common.register(fs)
	fs.StringVar(&s.adminListen, "admin-listen", "",
		"address of the admin listener: Prometheus metrics at /metrics and /healthz, for scrapers and probes, never routed by the edge (e.g. :9464); empty: none")
	fs.BoolVar(&s.pprof, "pprof", false,
		"also serve Go's profiles (CPU, heap, goroutines, net/http/pprof) at /debug/pprof/ on --admin-listen, e.g. go tool pprof http://localhost:9464/debug/pprof/profile")
	s.mods = modules()
	for _, m := range s.mods {
		m.Flags(fs)
	}
	fs.IntVar(&s.dbMaxConns, "database-max-conns", 0,
		"PostgreSQL connections each service of this process may hold at once (a pool per service; at least 2); 0: the number of cores, at least 4")
	fs.StringVar(&s.issuer, "token-issuer", "emporium", "issuer of access tokens; the edge and every service must agree")
	fs.DurationVar(&s.jobPoll, "job-poll", 250*time.Millisecond, "order, payment, shipping, notification, user: how often to look for background jobs other processes queued")
	fs.DurationVar(&s.jobTimeout, "job-timeout", time.Minute, "order, payment, shipping, notification, user: how long a background job may run; a job of a process that died is run again after twice this")
	s.upstreams = edge.Upstreams{}
	s.edge.Register(fs, moduleNames(s.mods))
}

// databaseURL is where service name keeps its data: the one database of
// url (a schema each on PostgreSQL), or its own SQLite file in dataDir.
func databaseURL(url, dataDir, name string) string {
	if url != "" {
		return url
	}
	return "sqlite:" + filepath.Join(dataDir, name+".db")
}

// process is what one process runs: its local services and, when it runs
// the edge, the edge in front.
type process struct {
	handler http.Handler // what the listener serves
	mail    *mailbox.Mailbox
	closers []func()
}

func (p *process) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
}

// assemble opens the services of run, each on its own database, starts
// their background work and, when withEdge, builds the edge in front of
// them (in-process routes) and of the upstreams (proxied); landing puts a
// landing page at / when there is no --web-dir.
func assemble(ctx context.Context, log *slog.Logger, s *settings, run []module.Module, withEdge, landing bool) (_ *process, err error) {
	if s.dbMaxConns < 0 || s.dbMaxConns == 1 {
		// Migrating River's tables holds an advisory lock on one connection
		// while the migrations run on another.
		return nil, fmt.Errorf("--database-max-conns must be 0 (the default) or at least 2, not %d", s.dbMaxConns)
	}
	p := &process{mail: mailbox.New()}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	var keys *token.KeySet
	if withEdge {
		if keys, err = token.LoadKeySet(s.edge.SigningKeys); err != nil {
			return nil, fmt.Errorf("signing keys %s: %w", s.edge.SigningKeys, err)
		}
	}
	revocations, closeRevocations, err := openRevocations(log, s, withEdge)
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, closeRevocations)
	verifier, err := newVerifier(ctx, log, s, keys, revocations)
	if err != nil {
		return nil, err
	}
	opts, err := serve.HandlerOptions(log, authz.Either(verifier, authz.InternalCredential(s.internalToken)))
	if err != nil {
		return nil, err
	}
	peers, err := newPeers(ctx, log, run, s.upstreams, s.internalToken)
	if err != nil {
		return nil, err
	}
	g, err := module.OpenGroup(ctx, run, module.GroupConfig{
		DB: func(ctx context.Context, m module.Module) (*bun.DB, error) {
			d, err := openDB(ctx, log, databaseURL(s.databaseURL, s.dataDir, m.Name()), m, s.migrate, s.dbMaxConns)
			if err != nil {
				return nil, err
			}
			stop, err := observe(d, m.Name())
			if err != nil {
				d.Close()
				return nil, err
			}
			p.closers = append(p.closers, stop)
			return d, nil
		},
		Env: module.Env{
			Log: log, Handler: opts, Dial: peers.dial,
			Currency: s.currency, PublicURL: s.publicURL, JobPoll: s.jobPoll, JobTimeout: s.jobTimeout, DataDir: s.dataDir,
			Mailbox: p.mail, DevMailbox: s.devMailbox, Getenv: s.getenv, Revocations: revocations, RedisURL: s.edge.RedisURL,
		},
		Handlers:  peers.local,
		Reachable: func(name string) bool { return len(s.upstreams[name]) > 0 },
	})
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, g.Close)
	if !withEdge {
		p.handler = localServices(s.mods, peers.local)
		return p, nil
	}
	p.handler, err = buildEdge(ctx, log, s, p, peers, keys, verifier, revocations, opts, landing)
	return p, err
}

// openDB opens one service's database (its own schema on PostgreSQL, a
// pool of maxConns connections, 0 for the default), migrating it first
// when migrate is set.
func openDB(ctx context.Context, log *slog.Logger, url string, m module.Module, migrate bool, maxConns int) (*bun.DB, error) {
	d, err := db.Open(ctx, url, db.Options{Schema: m.Name(), MaxOpenConns: maxConns})
	if err != nil {
		return nil, err
	}
	if migrate {
		applied, err := m.Migrate(ctx, d)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("migrate %s: %w", m.Name(), err)
		}
		if len(applied) > 0 {
			log.Info("migrated database", "service", m.Name(), "applied", applied)
		}
	}
	return d, nil
}

// observe reports d's connection pool and its River queues (depth, lag,
// dead jobs) as metrics labelled with service, until stop.
func observe(d *bun.DB, service string) (stop func(), err error) {
	stopPool, err := db.ObservePool(otel.GetMeterProvider(), d, service)
	if err != nil {
		return nil, err
	}
	stopQueues, err := jobs.ObserveQueues(otel.GetMeterProvider(), d, service)
	if err != nil {
		stopPool()
		return nil, err
	}
	return func() { stopQueues(); stopPool() }, nil
}

// peers reach the other services: in this process when they run here, else
// at their --upstream addresses. Calls carry the internal credential.
type peers struct {
	here      map[string]bool         // services this process runs
	local     map[string]http.Handler // filled as they open; read at call time
	upstreams edge.Upstreams
	remote    map[string]*http.Client // one per service elsewhere, so calls spread over its replicas
	internal  connect.ClientOption
	traced    connect.ClientOption // client spans, and trace context to the callee
	ctx       context.Context      // the process's: ends the replicas' health checks
	log       *slog.Logger
}

func newPeers(ctx context.Context, log *slog.Logger, run []module.Module, u edge.Upstreams, internalToken string) (*peers, error) {
	otel, err := otelconnect.NewInterceptor()
	if err != nil {
		return nil, fmt.Errorf("otel interceptor: %w", err)
	}
	p := &peers{traced: connect.WithInterceptors(otel), here: map[string]bool{}, local: map[string]http.Handler{}, upstreams: u, remote: map[string]*http.Client{},
		internal: authz.Bearer(internalToken), ctx: ctx, log: log}
	for _, m := range run {
		p.here[m.Name()] = true
	}
	return p, nil
}

// dial is module.Env.Dial.
func (p *peers) dial(name string) (connect.HTTPClient, string, []connect.ClientOption, bool) {
	base, opts := "http://"+name, []connect.ClientOption{p.traced, p.internal}
	switch {
	case p.here[name]:
		// The service may open after its caller: look it up per call.
		return serve.HandlerClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.local[name].ServeHTTP(w, r)
		})), base, opts, true
	case len(p.upstreams[name]) > 0:
		if p.remote[name] == nil {
			p.remote[name] = edge.UpstreamClient(p.ctx, p.upstreams[name], p.log)
		}
		return p.remote[name], base, opts, true
	}
	return nil, "", nil, false
}

// serveWithAdmin serves h on ln, and the admin handler (/metrics,
// /healthz) on s.adminListen when set, until ctx ends.
func serveWithAdmin(ctx context.Context, log *slog.Logger, s *settings, tel *telemetry.Telemetry, ln net.Listener, h http.Handler, grace time.Duration) error {
	if s.adminListen == "" {
		if s.pprof {
			return errors.New("--pprof needs --admin-listen: profiles are served there, never on the public port")
		}
		return serve.Serve(ctx, ln, h, log, grace)
	}
	admin, err := net.Listen("tcp", s.adminListen)
	if err != nil {
		return fmt.Errorf("--admin-listen %s: %w", s.adminListen, err)
	}
	log.Info("admin listener: metrics at /metrics", "addr", admin.Addr().String())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	adminErr := make(chan error, 1)
	go func() { adminErr <- serve.Serve(ctx, admin, serve.Admin(tel.Metrics(), s.pprof), log, time.Second) }()
	err = serve.Serve(ctx, ln, h, log, grace)
	cancel()
	return errors.Join(err, <-adminErr)
}

// localServices serves the services of a process without the edge: each
// one's paths, plus health checks and reflection for all of them.
func localServices(mods []module.Module, local map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	var names []string
	for _, m := range mods {
		h, ok := local[m.Name()]
		if !ok {
			continue
		}
		names = append(names, m.Routes().Services...)
		for _, prefix := range module.RoutesOf(m).Prefixes() {
			mux.Handle(prefix, h)
		}
	}
	serve.Introspection(mux, names...)
	serve.Healthz(mux)
	return mux
}

// openRevocations opens the access-token revocations the process's
// verifier checks and its edge and user service write: in Redis with
// --redis-url (shared by every process), else in this process's memory.
func openRevocations(log *slog.Logger, s *settings, withEdge bool) (token.Revocations, func(), error) {
	if s.edge.RedisURL == "" {
		if !withEdge {
			log.Warn("no --redis-url: sign-outs and password changes end this process's access tokens only when they expire (up to 15 min)")
		}
		return token.NewMemoryRevocations(), func() {}, nil
	}
	c, err := kv.Open(s.edge.RedisURL)
	if err != nil {
		return nil, nil, err
	}
	return token.NewRedisRevocations(c, "emporium:revoked:"), c.Close, nil
}

// newVerifier verifies access tokens, and their revocations: with the
// signing keys when the edge runs in this process, else against the edge's
// JWKS.
func newVerifier(ctx context.Context, log *slog.Logger, s *settings, keys *token.KeySet, rev token.Revocations) (*token.Verifier, error) {
	opts := []token.VerifierOption{token.WithCache(100_000), token.WithRevocations(rev, log)}
	if keys != nil {
		return token.NewStaticVerifier(keys, s.issuer, tokenAudience, opts...)
	}
	if s.jwksURL == "" {
		return nil, errors.New("--jwks-url is required when the edge runs in another process (e.g. http://edge:8080/.well-known/jwks.json)")
	}
	v, err := token.NewVerifier(s.jwksURL, s.issuer, tokenAudience, opts...)
	if err != nil {
		return nil, err
	}
	if err := v.Refresh(ctx); err != nil {
		log.Warn("cannot fetch the JWKS yet; signed-in calls fail until it can", "url", s.jwksURL, "err", err)
	}
	return v, nil
}
