package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emporiumhq/emporium/edge"
	"github.com/emporiumhq/emporium/internal/platform/config"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/telemetry"
	"github.com/emporiumhq/emporium/svc/product"
	"github.com/emporiumhq/emporium/svc/product/seed"
)

func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	started := time.Now()
	fs := newFlagSet("dev", stderr)
	var c common
	c.register(fs)
	listen := fs.String("listen", "localhost:8080", "address the edge listens on")
	dataDir := fs.String("data-dir", ".emporium", "where dev keeps its databases, search index and staff token")
	var st catalogStore
	st.registerCacheTTL(fs)
	if err := config.Parse(fs, args, getenv); err != nil {
		return err
	}
	log, err := c.logger(stderr)
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
	token, err := devStaffToken(*dataDir)
	if err != nil {
		return err
	}
	st.databaseURL = "sqlite:" + filepath.Join(*dataDir, "product.db")
	st.searchPath = filepath.Join(*dataDir, "search")
	svc, closeProduct, err := openProduct(ctx, log, st, c.currency, true)
	if err != nil {
		return err
	}
	defer closeProduct()
	if err := prepareCatalog(ctx, svc, c.currency, stdout); err != nil {
		return err
	}

	mux, err := productMux(svc, log, staffAuth(token))
	if err != nil {
		return err
	}
	g := groups()[0]
	routes := append(inProcessRoutes(g, mux), edge.Route{Prefix: "/", Handler: landingPage()})
	h, err := edge.New(ctx, edge.Config{
		Routes:      routes,
		CORSOrigins: []string{"*"}, // dev only: any local front-end dev server may call
		Services:    product.ServiceNames,
		Log:         log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another emporium running? try --listen localhost:8081)", *listen, err)
	}
	printBanner(stdout, ln.Addr(), *listen, *dataDir, token, time.Since(started))
	log.Info("emporium dev listening", "addr", ln.Addr().String())
	return serve.Serve(ctx, ln, h, log, 10*time.Second)
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

// devStaffToken reads the staff token kept in the data dir, making a random
// one on first start. Only the owner can read the file.
func devStaffToken(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "staff-token")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	token := "dev-staff-" + hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", err
	}
	return token, nil
}

func printBanner(w io.Writer, addr net.Addr, listen, dataDir, token string, took time.Duration) {
	host := listen
	if h, port, err := net.SplitHostPort(listen); err == nil {
		if h == "" || h == "0.0.0.0" || h == "::" {
			h = "localhost"
		}
		if port == "0" {
			_, port, _ = net.SplitHostPort(addr.String())
		}
		host = net.JoinHostPort(h, port)
	}
	base := "http://" + host
	fmt.Fprintf(w, `
Emporium dev is running (ready in %s).

  Shop:          %[2]s
  API (edge):    %[2]s  (gRPC, gRPC-Web, Connect and HTTP/JSON)
  Try curl:      curl -s %[2]s/emporium.product.v1.ProductService/ListProducts -H 'Content-Type: application/json' -d '{"pageSize":2}'
  Try grpcurl:   go tool task grpcurl -- -plaintext %[3]s list
  Search:        curl -s %[2]s/emporium.product.v1.ProductService/SearchProducts -H 'Content-Type: application/json' -d '{"query":"jakcet"}'
  Staff token:   %[4]s
                 (send as 'Authorization: Bearer <token>' for CreateProduct, AdjustStock, …)
  Data:          %[5]s (delete it to start over)

Press Ctrl+C to stop.
`, took.Round(time.Millisecond), base, host, token, dataDir)
}
