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
	"strconv"
	"strings"
	"time"

	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/telemetry"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
	"github.com/emporiumhq/emporium/svc/user"
)

// devAdminEmail is the admin account `emporium dev` keeps for the newcomer.
const devAdminEmail = "admin@example.com"

func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	started := time.Now()
	fs := config.NewFlagSet("dev", stderr)
	var s settings
	s.registerServing(fs)
	fs.StringVar(&s.listen, "listen", "localhost:8080", "address the edge listens on")
	fs.StringVar(&s.dataDir, "data-dir", ".emporium", "where dev keeps its databases, search index, labels, signing keys and admin password")
	fs.StringVar(&s.publicURL, "public-url", "", "where phones and other machines reach this shop, for the links it builds (3-D Secure page, emails), e.g. http://192.168.1.20:8080; empty: http://localhost:PORT")
	demoDefaults(fs)
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	s.getenv = getenv
	log, err := s.logger(stderr)
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, "emporium-dev", version(), getenv, stdout)
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.WithoutCancel(ctx))

	if err := os.MkdirAll(s.dataDir, 0o755); err != nil {
		return err
	}
	adminPassword, err := secretFile(filepath.Join(s.dataDir, "admin-password"), "shop-")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another emporium running? try --listen localhost:8081)", s.listen, err)
	}
	defer ln.Close()
	s.migrate = true
	s.edge.SigningKeys = filepath.Join(s.dataDir, "signing-keys.json")
	s.internalToken = randomHex(24) // in-process calls only: new each start
	if s.publicURL == "" {
		s.publicURL = baseURL(ln.Addr(), s.listen)
	}
	s.edge.CORSOrigins = []string{"*"} // dev only: any local front-end dev server may call
	s.devMailbox = true
	if s.edge.WebDir == "" {
		if hasWebApp(defaultWebDir) {
			s.edge.WebDir = defaultWebDir
		} else {
			fmt.Fprintf(stdout, "The web shop is not built (no %s/index.html): serving a landing page at / instead.\n"+
				"Build it with `go tool task web-build` (`go tool task dev` does), or pass --web-dir.\n", defaultWebDir)
		}
	}
	if s.edge.AdminDir == "" {
		if hasWebApp(defaultAdminDir) {
			s.edge.AdminDir = defaultAdminDir
		} else {
			fmt.Fprintf(stdout, "The admin panel is not built (no %s/index.html): /admin/ is not served.\n"+
				"Build it with `go tool task admin-build` (`go tool task dev` does), or pass --admin-dir.\n", defaultAdminDir)
		}
	}
	products, users := find[*product.Module](s.mods), find[*user.Module](s.mods)
	products.Media = seed.Images()
	products.ForegroundCatchUp = true // prepareCatalog, with progress on the terminal
	p, err := assemble(ctx, log, &s, s.mods, true /* with the edge */, true /* a landing page without the web shop */)
	if err != nil {
		return err
	}
	defer p.close()
	if err := prepareCatalog(ctx, products.Service(), s.currency, stdout); err != nil {
		return err
	}
	if _, err := users.Service().EnsureAdmin(ctx, devAdminEmail, adminPassword); err != nil {
		return fmt.Errorf("dev admin: %w", err)
	}
	printBanner(stdout, s.publicURL, ln.Addr(), s.dataDir, adminPassword, time.Since(started))
	log.Info("emporium dev listening", "addr", ln.Addr().String())
	return serveWithAdmin(ctx, log, &s, tel, ln, p.handler, 10*time.Second)
}

// The demo shop's settings, which only dev uses: sales tax to show tax at
// checkout, a warehouse to print on labels, tracking polled often enough
// to see the local carrier's parcels move within minutes, and background
// jobs polled for rarely. In dev every job is queued in this process,
// which wakes the service's workers itself (internal/platform/jobs,
// wake.go), so the poll only finds jobs another process queued; at the
// serving default (250 ms) six services' polls kept an idle dev busy
// (docs/benchmarks.md, idle cost). A service with nothing to do parks its
// job runner on SQLite (park.go), and the poll is then the one query a
// parked runner makes.
const (
	demoTaxRules = "US-CA=7.25,US-NY=8.875,US-TX=6.25,US-WA=6.5,CA=5,GB=20,DE=19,FR=20"
	demoShipFrom = `{"name":"Emporium Demo Warehouse","line1":"500 Dock Rd","city":"Oakland","region":"CA","postalCode":"94607","country":"US"}`
)

// demoDefaults makes the demo settings dev's defaults; flags and the
// environment still override them.
func demoDefaults(fs *flag.FlagSet) {
	for name, value := range map[string]string{"tax-rules": demoTaxRules, "ship-from": demoShipFrom, "track-interval": "30s", "job-poll": "5s"} {
		f := fs.Lookup(name)
		if err := f.Value.Set(value); err != nil {
			panic(fmt.Sprintf("demo default --%s: %v", name, err)) // constants above
		}
		f.DefValue = value
	}
}

// defaultWebDir is where `npm run build` in apps/web puts the web shop,
// relative to the repository root that `go tool task dev` runs in.
const defaultWebDir = "apps/web/dist"

// defaultAdminDir is where `npm run build` in apps/admin puts the admin
// panel, served at /admin/.
const defaultAdminDir = "apps/admin/dist"

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
	return svc.CatchUp(ctx, func(int64) {
		fmt.Fprintln(out, "The search index is not in line with the database; rebuilding it…")
	}, progressPrinter(out, "indexed"))
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
			fmt.Fprintf(out, "  %s %s %*d/%d\n", verb, progressBar(done, total, 20), len(strconv.Itoa(total)), done, total)
		}
	}
}

// progressBar draws done of total as a bar of width cells and a percentage:
// "[██████░░░░░░░░░░░░░░]  30%".
func progressBar(done, total, width int) string {
	done = min(max(done, 0), total)
	filled := done * width / total
	return fmt.Sprintf("[%s%s] %3d%%", strings.Repeat("█", filled), strings.Repeat("░", width-filled), done*100/total)
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
  Admin panel:   %[2]s/admin/  (staff sign in with the admin login below)
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
