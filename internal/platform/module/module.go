// Package module is the contract between a deployable service and the
// process that runs it. Each service implements Module in its own package
// (svc/<name>/module.go): its name, what it serves, its flags, how it
// migrates its database, which peers it calls and how it opens. The
// composition root (cmd/emporium) keeps one list of modules and derives
// everything else from it: `serve --services`, `migrate`, `dev`, the edge's
// routes; the shared test world (internal/testworld) builds services from
// the same modules.
//
// It is plain Go: a module is a value with methods, and a process gives it
// an Env to open on. Nothing here knows any business.
package module

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"connectrpc.com/connect"
	"github.com/uptrace/bun"

	"github.com/emporiumhq/emporium/internal/platform/audit"
	"github.com/emporiumhq/emporium/internal/platform/mailbox"
	"github.com/emporiumhq/emporium/internal/platform/token"
)

// Module is one deployable service.
type Module interface {
	// Name is the service's name in --services and --upstream, and the
	// schema of its tables on PostgreSQL.
	Name() string
	// Routes are what the service serves and how the edge treats it.
	Routes() Routes
	// Peers are the services it calls.
	Peers() []Peer
	// Flags registers the service's own settings on fs. A process calls it
	// once, before parsing, whether or not it runs the service.
	Flags(fs *flag.FlagSet)
	// Migrate brings the service's database up to date and names the
	// migrations it applied.
	Migrate(ctx context.Context, db *bun.DB) ([]string, error)
	// Open builds the service on env. Its background work starts with
	// Running.Start.
	Open(ctx context.Context, env *Env) (*Running, error)
}

// Routes are the paths a service serves.
type Routes struct {
	// Services are the fully qualified names of its Connect services.
	Services []string
	// Paths are other path prefixes it serves (webhooks, media, pages).
	Paths []string
	// Limits puts procedures (the generated …Procedure constants) in an
	// edge rate-limit class other than "default", e.g. sign-up in "login".
	Limits map[string]string
	// Optional services may run nowhere: an edge without them routes none
	// of their paths instead of refusing to start.
	Optional bool
}

// Prefixes are the path prefixes the routes cover: "/<name>/" for each
// Connect service (as gRPC and Connect paths are), then Paths.
func (r Routes) Prefixes() []string {
	var out []string
	for _, s := range r.Services {
		out = append(out, "/"+s+"/")
	}
	return append(out, r.Paths...)
}

// RoutesOf are the routes m serves in a Group: its own, and its audit log
// (AuditService under audit.PathPrefix, which OpenGroup mounts for every
// service). Edges and muxes route a service by these.
func RoutesOf(m Module) Routes {
	r := m.Routes()
	r.Paths = append(slices.Clone(r.Paths), audit.PathPrefix(m.Name()))
	return r
}

// Peer is a service another one calls.
type Peer struct {
	Name string
	// Optional peers may run nowhere; the caller then does without (for
	// example, no notifications are sent).
	Optional bool
}

// Env is what a process gives a module to open on.
type Env struct {
	Log *slog.Logger
	// DB is the service's own database, migrated when the process migrates.
	DB *bun.DB
	// Handler are the options every Connect handler is mounted with:
	// tracing, errors, access rules, validation.
	Handler []connect.HandlerOption
	// Dial reaches a peer by name: an HTTP client and base URL that carry
	// the internal credential. ok is false when the peer runs nowhere this
	// process knows of.
	Dial func(name string) (hc connect.HTTPClient, baseURL string, opts []connect.ClientOption, ok bool)

	Currency  string // the shop's ISO 4217 currency
	PublicURL string // where people reach the shop, for links
	JobPoll   time.Duration
	// JobTimeout bounds each background job's run; a job still running
	// twice this long lost its process and is run again. 0: 1 min.
	JobTimeout time.Duration
	// DataDir is where embedded defaults keep files (indexes, labels).
	DataDir string
	// Mailbox is this process's mailbox. DevMailbox says whether it is
	// shown (dev, or --dev-mailbox); only then may services deliver into
	// it what would otherwise go to a provider.
	Mailbox    *mailbox.Mailbox
	DevMailbox bool
	// Getenv reads the environment, for credentials that SDKs take from it.
	Getenv func(string) string
	// RedisURL is the process's --redis-url, shared by every process of the
	// deployment; empty without one. Services use it for what replicas
	// must share (the catalog cache's invalidations).
	RedisURL string
	// Revocations are the access-token revocations this process's
	// verifier checks, shared with the edge's; services that end sessions
	// (the user service, on a password change) write to them. May be nil.
	Revocations token.Revocations
}

// Client is a peer's Connect client, e.g.
//
//	orders := module.Client(env, "order", orderv1connect.NewOrderServiceClient)
//
// A peer that runs nowhere gets a client whose calls fail with unavailable
// and a message naming the missing --upstream.
func Client[T any](env *Env, name string, newClient func(connect.HTTPClient, string, ...connect.ClientOption) T) T {
	hc, base, opts, ok := env.Dial(name)
	if !ok {
		return newClient(missing(name), "http://"+name)
	}
	return newClient(hc, base, opts...)
}

// OptionalClient is Client for an optional peer: the zero T (nil) when it
// runs nowhere.
func OptionalClient[T any](env *Env, name string, newClient func(connect.HTTPClient, string, ...connect.ClientOption) T) T {
	if _, _, _, ok := env.Dial(name); !ok {
		var zero T
		return zero
	}
	return Client(env, name, newClient)
}

// missing is the HTTP client of a peer that runs nowhere.
type missing string

func (m missing) Do(*http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("no address for the %s service: pass --upstream %s=http://host:port, or run it in this process", string(m), string(m))
}

// Running is an opened service.
type Running struct {
	// Handler serves the service's routes.
	Handler http.Handler
	// Start begins its background work (jobs, pollers); Stop lets running
	// work finish. Either may be nil.
	Start func(ctx context.Context) error
	Stop  func(ctx context.Context) error
	// Close releases what Open opened besides the database; may be nil.
	Close func()
}

// Mux returns a ServeMux with mount's handlers on it: the usual Handler of
// a Running.
func Mux(mount func(*http.ServeMux)) *http.ServeMux {
	mux := http.NewServeMux()
	mount(mux)
	return mux
}

// Service is the shape most services have: Connect handlers to mount and
// background jobs to start and stop.
type Service interface {
	Mount(mux *http.ServeMux, opts ...connect.HandlerOption)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Run is the Running of such a service, mounted with env's handler
// options; close, when set, releases what was opened for it.
func Run(svc Service, env *Env, close func()) *Running {
	return &Running{
		Handler: Mux(func(mux *http.ServeMux) { svc.Mount(mux, env.Handler...) }),
		Start:   svc.Start,
		Stop:    svc.Stop,
		Close:   close,
	}
}

// Base is what every service's module keeps besides its flags: the hook
// tests change the service's Deps with, and the service once opened. A
// module embeds it as Base[Deps, *Service].
type Base[D, S any] struct {
	// Adjust, when set, changes the Deps Open has filled before the
	// service is made (tests set clocks, stand-ins and crash hooks here).
	Adjust func(*D)
	svc    S
}

// Make applies Adjust to deps and makes the service with newService,
// keeping it for Service.
func (b *Base[D, S]) Make(deps D, newService func(D) (S, error)) (S, error) {
	if b.Adjust != nil {
		b.Adjust(&deps)
	}
	svc, err := newService(deps)
	if err == nil {
		b.svc = svc
	}
	return svc, err
}

// Service is the opened service, for commands and tests that use it
// directly (seeding, the dev admin); zero before Open.
func (b *Base[D, S]) Service() S { return b.svc }
