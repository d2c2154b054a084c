package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/emporiumhq/emporium/edge"
	"github.com/emporiumhq/emporium/internal/platform/authz"
	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/search/bleve"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

// group is a set of Connect services that run together as one deployable
// service, with the extra HTTP paths it serves.
type group struct {
	name     string
	services []string
	paths    []string // path prefixes besides the services' own
}

// groups lists every deployable service; the edge routes by it.
func groups() []group {
	return []group{
		{name: "product", services: product.ServiceNames, paths: []string{"/media/"}},
	}
}

// common are the flags every command has.
type common struct {
	logLevel string
	currency string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.currency, "currency", "USD", "the shop's ISO 4217 currency; every price is in it")
}

// registerCacheTTL adds --cache-ttl to a serving command.
func (st *catalogStore) registerCacheTTL(fs *flag.FlagSet) {
	fs.DurationVar(&st.cacheTTL, "cache-ttl", 2*time.Second,
		"product: keep catalog reads this long; writes through this process show at once, through other replicas after at most this (0 = off)")
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

// catalogStore locates the product service's data.
type catalogStore struct {
	databaseURL string
	searchPath  string
	cacheTTL    time.Duration
}

// openProduct opens the product service's database and index, migrating
// the database first when migrate is set.
func openProduct(ctx context.Context, log *slog.Logger, st catalogStore, currency string, migrate bool) (*product.Service, func(), error) {
	d, err := db.Open(ctx, st.databaseURL, db.Options{Schema: "product"})
	if err != nil {
		return nil, nil, err
	}
	if migrate {
		applied, err := db.Migrate(ctx, d, product.Migrations)
		if err != nil {
			d.Close()
			return nil, nil, fmt.Errorf("migrate product: %w", err)
		}
		if len(applied) > 0 {
			log.Info("migrated product database", "applied", applied)
		}
	}
	idx, err := bleve.Open(filepath.Join(st.searchPath, "products.bleve"))
	if err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("open search index: %w", err)
	}
	svc, err := product.New(product.Deps{DB: d, Index: idx, Currency: currency, Log: log, CacheTTL: st.cacheTTL})
	if err != nil {
		idx.Close()
		d.Close()
		return nil, nil, err
	}
	return svc, func() { idx.Close(); d.Close() }, nil
}

// productMux serves the product group: its Connect services, health,
// reflection and the catalog's placeholder images.
func productMux(svc *product.Service, log *slog.Logger, auth authz.Authenticator) (*http.ServeMux, error) {
	opts, err := serve.HandlerOptions(log, auth)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	svc.Mount(mux, opts...)
	mux.Handle("/media/products/", seed.Images())
	serve.Introspection(mux, product.ServiceNames...)
	serve.Healthz(mux)
	return mux, nil
}

// inProcessRoutes routes every path of g to h.
func inProcessRoutes(g group, h http.Handler) []edge.Route {
	var routes []edge.Route
	for _, s := range g.services {
		routes = append(routes, edge.Route{Prefix: edge.ServicePrefix(s), Handler: h})
	}
	for _, p := range g.paths {
		routes = append(routes, edge.Route{Prefix: p, Handler: h})
	}
	return routes
}

// staffAuth authenticates the configured staff token: the stand-in for
// sign-in until the identity service exists.
func staffAuth(token string) authz.Authenticator {
	return authz.NewStaticTokens(map[string]*authz.Principal{
		token: {Subject: "staff", Roles: []string{authz.RoleStaff}},
	})
}
