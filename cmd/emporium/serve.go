package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
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
	var s settings
	s.registerServing(fs)
	services := config.List{"product", "user", "order", "payment", "shipping", "edge"}
	fs.Var(&services, "services", "comma-separated services this process runs: product, user, order, payment, shipping, notification, edge")
	s.commerce.register(fs, "")
	fs.StringVar(&s.listen, "listen", ":8080", "address to listen on")
	fs.StringVar(&s.databaseURL, "database-url", "", "database of the services run here (a schema each on PostgreSQL): postgres://user:pass@host:5432/db?sslmode=… or sqlite:PATH")
	fs.StringVar(&s.searchPath, "search-path", "data/search", "product: directory of the on-disk search index (one process may open it)")
	fs.BoolVar(&s.migrate, "migrate", true, "apply pending migrations at start (safe with several replicas)")
	fs.StringVar(&s.signingKeys, "signing-keys", "data/signing-keys.json", "edge: file of the access-token signing keys (made on first start; share it between edge replicas)")
	fs.StringVar(&s.jwksURL, "jwks-url", "", "services without the edge in this process: where the edge publishes its keys, e.g. http://edge:8080/.well-known/jwks.json")
	fs.StringVar(&s.internalToken, "internal-token", "", "shared secret the edge presents to services' internal methods; the same on every process")
	fs.StringVar(&s.publicURL, "public-url", "http://localhost:8080", "user: where people reach the shop, for links in messages")
	fs.StringVar(&s.redisURL, "redis-url", "", "edge: redis://host:6379/0 for sessions, sign-in state and rate limits shared by edge replicas; empty: this process's memory")
	s.upstreams = upstreams{}
	fs.Var(s.upstreams, "upstream", "where services this process does not run are (for the edge, and for services that call others: order calls product, shipping, payment and notification; payment and shipping call order; shipping calls notification; user calls notification; notification calls user), e.g. product=http://10.0.0.5:8081,http://10.0.0.6:8081;user=http://10.0.0.7:8082")
	s.balance = balanceFlag(edge.LeastRequests)
	fs.Var(&s.balance, "balance", "edge: how to spread requests over upstream replicas: least-requests or round-robin")
	fs.Var(&s.corsOrigins, "cors-origins", "edge: comma-separated origins browsers may call from, e.g. https://shop.example.com")
	fs.BoolVar(&s.devMailbox, "dev-mailbox", false, "edge: show messages at /dev/mailbox (they hold live reset links: never in production)")
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	s.commerce.getenv = getenv
	log, err := s.logger(stderr)
	if err != nil {
		return err
	}
	p := plan{}
	for _, name := range services {
		switch name {
		case "product":
			p.product = true
		case "user":
			p.user = true
		case "order":
			p.order = true
		case "payment":
			p.payment = true
		case "shipping":
			p.shipping = true
		case "notification":
			p.notification = true
		case "edge":
			p.edge = true
		default:
			return fmt.Errorf("--services: unknown service %q (want %s or edge)", name, strings.Join(groupNames(), ", "))
		}
	}
	if len(services) == 0 {
		return fmt.Errorf("--services: name at least one service")
	}
	if s.webDir != "" && !p.edge {
		return fmt.Errorf("--web-dir: the web shop is served by the edge; add edge to --services")
	}
	if s.webDir != "" && !hasWebApp(s.webDir) {
		return fmt.Errorf("--web-dir: %s has no index.html: build the web shop first (go tool task web-build)", s.webDir)
	}
	p.webDir = s.webDir
	if (p.product || p.user || p.order || p.payment || p.shipping || p.notification) && s.databaseURL == "" {
		return fmt.Errorf("--database-url is required for %s (EMPORIUM_DATABASE_URL)", strings.Join(services, ","))
	}
	p.productDB, p.userDB, p.orderDB, p.paymentDB = s.databaseURL, s.databaseURL, s.databaseURL, s.databaseURL
	p.shippingDB, p.notificationDB = s.databaseURL, s.databaseURL
	if s.commerce.labelDir == "" {
		s.commerce.labelDir = filepath.Join("data", "labels")
	}
	shutdownTelemetry, err := telemetry.Setup(ctx, "emporium-"+strings.Join(services, "-"), version(), getenv, stdout)
	if err != nil {
		return err
	}
	defer shutdownTelemetry(context.WithoutCancel(ctx))
	if p.edge && s.redisURL == "" {
		log.Warn("no --redis-url: sessions and rate limits live in this process; run one edge replica only")
	}
	if p.user && !notificationReachable(&s, p) {
		log.Warn("no notification service (--services=notification or --upstream notification=…): verification and reset links are not delivered")
	}
	st, err := assemble(ctx, log, &s, p)
	if err != nil {
		return err
	}
	defer st.close()
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.listen, err)
	}
	log.Info("emporium serving", "services", services.String(), "addr", ln.Addr().String(), "version", version())
	return serve.Serve(ctx, ln, st.handler, log, 20*time.Second)
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
