package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/emporiumhq/emporium/edge"
	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/telemetry"
)

// upstreams is the --upstream flag: service group → replica URLs, given as
// "product=http://10.0.0.5:8081,http://10.0.0.6:8081;order=http://…".
type upstreams map[string][]*url.URL

func (u upstreams) String() string {
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

func (u upstreams) Set(s string) error {
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

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var c common
	c.register(fs)
	services := config.List{"product", "edge"}
	fs.Var(&services, "services", "comma-separated services this process runs: product, edge")
	listen := fs.String("listen", ":8080", "address to listen on")
	var st catalogStore
	fs.StringVar(&st.databaseURL, "database-url", "", "product database: postgres://user:pass@host:5432/db?sslmode=… or sqlite:PATH")
	fs.StringVar(&st.searchPath, "search-path", "data/search", "directory of the on-disk search index (one process may open it)")
	st.registerCacheTTL(fs)
	migrate := fs.Bool("migrate", true, "apply pending migrations at start (safe with several replicas)")
	ups := upstreams{}
	fs.Var(ups, "upstream", "edge: where services this process does not run are, e.g. product=http://10.0.0.5:8081,http://10.0.0.6:8081")
	balance := balanceFlag(edge.LeastRequests)
	fs.Var(&balance, "balance", "edge: how to spread requests over upstream replicas: least-requests or round-robin")
	corsOrigins := config.List{}
	fs.Var(&corsOrigins, "cors-origins", "edge: comma-separated origins browsers may call from, e.g. https://shop.example.com")
	staffToken := fs.String("staff-token", "", "bearer token granting the staff role (until sign-in exists); empty: no one is staff")
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	known := map[string]bool{"edge": true}
	for _, g := range groups() {
		known[g.name] = true
	}
	for _, s := range services {
		if !known[s] {
			return fmt.Errorf("--services: unknown service %q", s)
		}
	}
	if len(services) == 0 {
		return fmt.Errorf("--services: name at least one service")
	}
	shutdownTelemetry, err := telemetry.Setup(ctx, "emporium-"+strings.Join(services, "-"), version(), getenv, stdout)
	if err != nil {
		return err
	}
	defer shutdownTelemetry(context.WithoutCancel(ctx))
	if *staffToken == "" {
		log.Warn("no --staff-token: staff methods (CreateProduct, AdjustStock, …) refuse every caller")
	}

	local := map[string]http.Handler{}
	if slices.Contains(services, "product") {
		if st.databaseURL == "" {
			return fmt.Errorf("product: --database-url is required (EMPORIUM_DATABASE_URL)")
		}
		svc, closeProduct, err := openProduct(ctx, log, st, c.currency, *migrate)
		if err != nil {
			return err
		}
		defer closeProduct()
		mux, err := productMux(svc, log, staffAuth(*staffToken))
		if err != nil {
			return err
		}
		local["product"] = mux
	}

	var h http.Handler
	if slices.Contains(services, "edge") {
		h, err = edgeHandler(ctx, local, ups, corsOrigins, edge.Balance(balance), log)
		if err != nil {
			return err
		}
	} else {
		h = local["product"]
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	log.Info("emporium serving", "services", services.String(), "addr", ln.Addr().String(), "version", version())
	return serve.Serve(ctx, ln, h, log, 20*time.Second)
}

// edgeHandler routes every known group to its in-process handler when this
// process runs it, else to its configured upstreams.
func edgeHandler(ctx context.Context, local map[string]http.Handler, ups upstreams, origins []string, balance edge.Balance, log *slog.Logger) (http.Handler, error) {
	var routes []edge.Route
	var names []string
	known := map[string]bool{}
	for _, g := range groups() {
		known[g.name] = true
		names = append(names, g.services...)
		if h, ok := local[g.name]; ok {
			routes = append(routes, inProcessRoutes(g, h)...)
			continue
		}
		targets := ups[g.name]
		if len(targets) == 0 {
			return nil, fmt.Errorf("edge: no upstream for %s: pass --upstream %s=http://host:port, or run it here with --services=%s,edge", g.name, g.name, g.name)
		}
		// One health check per upstream process: its first service stands
		// for the group, which always runs together.
		health := &edge.HealthCheck{Service: g.services[0]}
		for _, s := range g.services {
			routes = append(routes, edge.Route{Prefix: edge.ServicePrefix(s), Targets: targets, Balance: balance, Health: health})
		}
		for _, p := range g.paths {
			routes = append(routes, edge.Route{Prefix: p, Targets: targets, Balance: balance, Health: health})
		}
	}
	for name := range ups {
		if !known[name] {
			return nil, fmt.Errorf("--upstream: unknown service %q", name)
		}
	}
	return edge.New(ctx, edge.Config{Routes: routes, CORSOrigins: origins, Services: names, Log: log})
}

// balanceFlag is the --balance flag.
type balanceFlag edge.Balance

func (b *balanceFlag) String() string {
	if edge.Balance(*b) == edge.RoundRobin {
		return "round-robin"
	}
	return "least-requests"
}

func (b *balanceFlag) Set(s string) error {
	switch s {
	case "round-robin":
		*b = balanceFlag(edge.RoundRobin)
	case "least-requests":
		*b = balanceFlag(edge.LeastRequests)
	default:
		return fmt.Errorf("%q: want least-requests or round-robin", s)
	}
	return nil
}
