package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/module"
	"github.com/emporiumhq/emporium/internal/platform/telemetry"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := config.NewFlagSet("serve", stderr)
	var s settings
	servicesFlag, demoImages := s.registerServe(fs)
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	s.getenv, s.dataDir = getenv, "data"
	services := *servicesFlag
	log, err := s.logger(stderr)
	if err != nil {
		return err
	}
	if len(services) == 0 {
		return fmt.Errorf("--services: name at least one service")
	}
	run, withEdge, err := pick(s.mods, services, true)
	if err != nil {
		return err
	}
	if s.edge.WebDir != "" && !withEdge {
		return fmt.Errorf("--web-dir: the web shop is served by the edge; add edge to --services")
	}
	if s.edge.WebDir != "" && !hasWebApp(s.edge.WebDir) {
		return fmt.Errorf("--web-dir: %s has no index.html: build the web shop first (go tool task web-build)", s.edge.WebDir)
	}
	if s.edge.AdminDir != "" && !withEdge {
		return fmt.Errorf("--admin-dir: the admin panel is served by the edge; add edge to --services")
	}
	if s.edge.AdminDir != "" && !hasWebApp(s.edge.AdminDir) {
		return fmt.Errorf("--admin-dir: %s has no index.html: build the admin panel first (go tool task admin-build)", s.edge.AdminDir)
	}
	if len(run) > 0 && s.databaseURL == "" {
		return fmt.Errorf("--database-url is required for %s (EMPORIUM_DATABASE_URL)", strings.Join(services, ","))
	}
	if *demoImages {
		find[*product.Module](s.mods).Media = seed.Images()
	}
	tel, err := telemetry.Setup(ctx, "emporium-"+strings.Join(services, "-"), version(), getenv, stdout)
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.WithoutCancel(ctx))
	if withEdge && s.edge.RedisURL == "" {
		log.Warn("no --redis-url: sessions and rate limits live in this process; run one edge replica only")
	}
	for _, m := range run {
		for _, p := range m.Peers() {
			if p.Optional && !slices.Contains(services, p.Name) && len(s.upstreams[p.Name]) == 0 {
				log.Warn(fmt.Sprintf("no %[1]s service (--services=%[1]s or --upstream %[1]s=…): %[2]s runs without it", p.Name, m.Name()))
			}
		}
	}
	p, err := assemble(ctx, log, &s, run, withEdge, false /* no landing page */)
	if err != nil {
		return err
	}
	defer p.close()
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.listen, err)
	}
	log.Info("emporium serving", "services", services.String(), "addr", ln.Addr().String(), "version", version())
	return serveWithAdmin(ctx, log, &s, tel, ln, p.handler, 20*time.Second)
}

// registerServe adds serve's flags (every service's among them) to fs; doctor
// checks a deployment with the very same ones.
func (s *settings) registerServe(fs *flag.FlagSet) (services *config.List, demoImages *bool) {
	s.registerServing(fs)
	list := defaultServices(s.mods)
	services = &list
	fs.Var(services, "services", "comma-separated services this process runs: "+strings.Join(moduleNames(s.mods), ", ")+", edge")
	fs.StringVar(&s.listen, "listen", ":8080", "address to listen on")
	fs.StringVar(&s.databaseURL, "database-url", "", "database of the services run here (a schema each on PostgreSQL): postgres://user:pass@host:5432/db?sslmode=… or sqlite:PATH")
	fs.BoolVar(&s.migrate, "migrate", true, "apply pending migrations at start (safe with several replicas)")
	fs.StringVar(&s.edge.SigningKeys, "signing-keys", "data/signing-keys.json", "edge: file of the access-token signing keys (made on first start; share it between edge replicas)")
	fs.StringVar(&s.jwksURL, "jwks-url", "", "services without the edge in this process: where the edge publishes its keys, e.g. http://edge:8080/.well-known/jwks.json")
	fs.StringVar(&s.internalToken, "internal-token", "", "shared secret the edge presents to services' internal methods; the same on every process")
	fs.StringVar(&s.publicURL, "public-url", "http://localhost:8080", "user: where people reach the shop, for links in messages")
	fs.StringVar(&s.edge.RedisURL, "redis-url", "", "redis://host:6379/0 for sessions, sign-in state and rate limits shared by edge replicas, access-token revocations shared by the edge and every service, and the product replicas' catalog cache invalidations (give it to service processes too); empty: this process's memory")
	fs.Var(s.upstreams, "upstream", "where services this process does not run are (for the edge, and for services that call others: "+peerList(s.mods)+"), e.g. product=http://10.0.0.5:8081,http://10.0.0.6:8081;user=http://10.0.0.7:8082")
	fs.Var(&s.edge.Balance, "balance", "edge: how to spread requests over upstream replicas: least-requests or round-robin")
	fs.Var(&s.edge.CORSOrigins, "cors-origins", "edge: comma-separated origins browsers may call from, e.g. https://shop.example.com")
	fs.BoolVar(&s.devMailbox, "dev-mailbox", false, "edge: show messages at /dev/mailbox (they hold live reset links: never in production)")
	demoImages = fs.Bool("demo-images", false, "product: serve the demo catalog's images (loaded by emporium seed) at /media/products/")
	return services, demoImages
}

// defaultServices are what serve runs without --services: every service
// that is not optional, and the edge.
func defaultServices(mods []module.Module) config.List {
	var out config.List
	for _, m := range mods {
		if !m.Routes().Optional {
			out = append(out, m.Name())
		}
	}
	return append(out, "edge")
}

// peerList says which services call which, for --upstream's help.
func peerList(mods []module.Module) string {
	var parts []string
	for _, m := range mods {
		var names []string
		for _, p := range m.Peers() {
			names = append(names, p.Name)
		}
		if len(names) > 0 {
			parts = append(parts, m.Name()+" calls "+strings.Join(names, ", "))
		}
	}
	return strings.Join(parts, "; ")
}
