package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/telemetry"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

// devAdminEmail is the admin account `emporium dev` keeps for the newcomer.
const devAdminEmail = "admin@example.com"

func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	started := time.Now()
	fs := newFlagSet("dev", stderr)
	var s settings
	s.registerServing(fs)
	fs.StringVar(&s.listen, "listen", "localhost:8080", "address the edge listens on")
	s.commerce.register(fs, demoTaxRules)
	dataDir := fs.String("data-dir", ".emporium", "where dev keeps its databases, search index, signing keys and admin password")
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	s.commerce.getenv = getenv
	log, err := s.logger(stderr)
	if err != nil {
		return err
	}
	shutdownTelemetry, err := telemetry.Setup(ctx, "emporium-dev", version(), getenv, stdout)
	if err != nil {
		return err
	}
	defer shutdownTelemetry(context.WithoutCancel(ctx))

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return err
	}
	adminPassword, err := secretFile(filepath.Join(*dataDir, "admin-password"), "shop-")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another emporium running? try --listen localhost:8081)", s.listen, err)
	}
	defer ln.Close()
	s.migrate = true
	s.searchPath = filepath.Join(*dataDir, "search")
	s.signingKeys = filepath.Join(*dataDir, "signing-keys.json")
	s.internalToken = randomHex(24) // in-process calls only: new each start
	s.publicURL = baseURL(ln.Addr(), s.listen)
	s.corsOrigins = []string{"*"} // dev only: any local front-end dev server may call
	s.devMailbox = true
	s.upstreams = upstreams{}
	if s.webDir == "" {
		if hasWebApp(defaultWebDir) {
			s.webDir = defaultWebDir
		} else {
			fmt.Fprintf(stdout, "The web shop is not built (no %s/index.html): serving a landing page at / instead.\n"+
				"Build it with `go tool task web-build` (`go tool task dev` does), or pass --web-dir.\n", defaultWebDir)
		}
	}
	if s.commerce.labelDir == "" {
		s.commerce.labelDir = filepath.Join(*dataDir, "labels")
	}
	if !flagSet(fs, "track-interval") {
		s.commerce.trackInterval = 30 * time.Second // the local carrier's parcels move within minutes
	}
	st, err := assemble(ctx, log, &s, plan{
		product: true, user: true, order: true, payment: true, shipping: true, edge: true, landing: true, webDir: s.webDir,
		notification: true, notificationDB: "sqlite:" + filepath.Join(*dataDir, "notification.db"),
		productDB:  "sqlite:" + filepath.Join(*dataDir, "product.db"),
		userDB:     "sqlite:" + filepath.Join(*dataDir, "user.db"),
		orderDB:    "sqlite:" + filepath.Join(*dataDir, "order.db"),
		paymentDB:  "sqlite:" + filepath.Join(*dataDir, "payment.db"),
		shippingDB: "sqlite:" + filepath.Join(*dataDir, "shipping.db"),
	})
	if err != nil {
		return err
	}
	defer st.close()
	if err := prepareCatalog(ctx, st.product, s.currency, stdout); err != nil {
		return err
	}
	if _, err := st.users.EnsureAdmin(ctx, devAdminEmail, adminPassword); err != nil {
		return fmt.Errorf("dev admin: %w", err)
	}
	printBanner(stdout, s.publicURL, ln.Addr(), *dataDir, adminPassword, time.Since(started))
	log.Info("emporium dev listening", "addr", ln.Addr().String())
	return serve.Serve(ctx, ln, st.handler, log, 10*time.Second)
}

// defaultWebDir is where `npm run build` in apps/web puts the web shop,
// relative to the repository root that `go tool task dev` runs in.
const defaultWebDir = "apps/web/dist"

// hasWebApp reports whether dir holds a built web app.
func hasWebApp(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "index.html"))
	return err == nil && !st.IsDir()
}

// prepareCatalog seeds the demo catalog into an empty database, and
// otherwise makes sure the search index matches the database (a quick count
// on every start; a rebuild only when they differ).
func prepareCatalog(ctx context.Context, svc *product.Service, currency string, out io.Writer) error {
	n, err := svc.CountProducts(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		cat := seed.Demo(currency)
		fmt.Fprintf(out, "Seeding the demo catalog: %d products in %d categories…\n", len(cat.Products), len(cat.Categories))
		created, err := svc.Seed(ctx, cat, progressPrinter(out, "seeded"))
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		fmt.Fprintf(out, "Seeded %d products.\n", created)
		return nil
	}
	inSync, err := svc.IndexInSync(ctx)
	if err != nil || inSync {
		return err
	}
	fmt.Fprintln(out, "The search index is behind the database; rebuilding it…")
	return svc.Reindex(ctx, false, progressPrinter(out, "indexed"))
}

// progressPrinter prints "verb done/total" at every tenth of the work.
func progressPrinter(out io.Writer, verb string) product.Progress {
	last := -1
	return func(done, total int) {
		if total == 0 {
			return
		}
		if tenth := done * 10 / total; tenth != last {
			last = tenth
			fmt.Fprintf(out, "  %s %d/%d\n", verb, done, total)
		}
	}
}

// secretFile reads a secret kept in a file, making a random one on first
// use. Only the owner can read the file.
func secretFile(path, prefix string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	secret := prefix + randomHex(12)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	return secret, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// baseURL is how a person on this machine reaches addr, listened on as
// listen ("localhost:8080", ":8080", "127.0.0.1:0").
func baseURL(addr net.Addr, listen string) string {
	host, _, err := net.SplitHostPort(listen)
	_, port, _ := net.SplitHostPort(addr.String())
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func printBanner(w io.Writer, base string, addr net.Addr, dataDir, adminPassword string, took time.Duration) {
	_, port, _ := net.SplitHostPort(addr.String())
	fmt.Fprintf(w, `
Emporium dev is running (ready in %s).

  Shop:          %[2]s
  API (edge):    %[2]s  (gRPC, gRPC-Web, Connect and HTTP/JSON)
  Try curl:      curl -s %[2]s/emporium.product.v1.ProductService/ListProducts -H 'Content-Type: application/json' -d '{"pageSize":2}'
  Try grpcurl:   go tool task grpcurl -- -plaintext localhost:%[3]s list
  Admin login:   %[4]s / %[5]s
                 (AuthService/Login returns a bearer token for CreateProduct, AdjustStock, ListUsers, …)
  Mailbox:       %[2]s/dev/mailbox  (every email and SMS: account links, order confirmations, shipping updates)
  Data:          %[6]s (delete it to start over)

Press Ctrl+C to stop.
`, took.Round(time.Millisecond), base, port, devAdminEmail, adminPassword, dataDir)
}

// flagSet reports whether a flag was given, on the command line or in the
// environment.
func flagSet(flags *flag.FlagSet, name string) (set bool) {
	flags.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
