package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/svc/product"
)

// syncBuffer collects a command's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `emporium args…` in-process until the test ends and waits for
// /healthz at addr.
func start(t *testing.T, addr string, env map[string]string, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := new(syncBuffer)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, out, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("emporium %s: %v\n%s", args[0], err, out)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return out
			}
		}
		select {
		case err := <-done:
			t.Fatalf("emporium %s exited: %v\n%s", args[0], err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("emporium %s not ready at %s:\n%s", args[0], addr, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// h2c is an HTTP/2-without-TLS client, as gRPC clients use.
func h2c() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{}}}
}

// protocolClients are ProductService clients for every protocol the edge
// speaks.
func protocolClients(base string) map[string]productv1connect.ProductServiceClient {
	return map[string]productv1connect.ProductServiceClient{
		"connect+json": productv1connect.NewProductServiceClient(http.DefaultClient, base, connect.WithProtoJSON()),
		"connect+h2c":  productv1connect.NewProductServiceClient(h2c(), base),
		"grpc":         productv1connect.NewProductServiceClient(h2c(), base, connect.WithGRPC()),
		"grpc-web":     productv1connect.NewProductServiceClient(http.DefaultClient, base, connect.WithGRPCWeb()),
	}
}

func TestDevServesTheSeededShopOverEveryProtocol(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	dataDir := t.TempDir()
	out := start(t, addr, nil, "dev", "--listen", addr, "--data-dir", dataDir, "--log-level", "warn")
	for _, want := range []string{"Seeded 520 products", "Emporium dev is running", "Staff token:   dev-staff-"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dev output lacks %q:\n%s", want, out)
		}
	}
	ctx := context.Background()
	for name, client := range protocolClients("http://" + addr) {
		t.Run(name, func(t *testing.T) {
			cats, err := client.ListCategories(ctx, &productv1.ListCategoriesRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for _, c := range cats.GetCategories() {
				total += c.GetProductCount()
			}
			if len(cats.GetCategories()) != 20 || total != 520 {
				t.Errorf("%d categories holding %d products, want 20 and 520", len(cats.GetCategories()), total)
			}
			res, err := client.SearchProducts(ctx, &productv1.SearchProductsRequest{Query: "jakcet"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.GetHits()) == 0 || !strings.Contains(strings.ToLower(res.GetHits()[0].GetProduct().GetTitle()), "jacket") {
				t.Errorf("search with a typo: first hit %v, want a jacket", res.GetHits())
			}
			_, err = client.ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 101})
			if connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Errorf("page_size 101: %v, want invalid_argument", err)
			}
		})
	}

	// A placeholder image of a seeded product is served locally.
	list, err := productv1connect.NewProductServiceClient(http.DefaultClient, "http://"+addr).
		ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	img, err := http.Get("http://" + addr + list.GetProducts()[0].GetImages()[0].GetUrl())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(img.Body)
	img.Body.Close()
	if img.StatusCode != 200 || img.Header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(body, []byte("<svg")) {
		t.Errorf("image: %d %s %.60q", img.StatusCode, img.Header.Get("Content-Type"), body)
	}

	// The staff token printed in the banner (and kept in the data dir) works.
	token, err := os.ReadFile(filepath.Join(dataDir, "staff-token"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), strings.TrimSpace(string(token))) {
		t.Errorf("banner does not show the staff token")
	}
	inv := productv1connect.NewInventoryServiceClient(http.DefaultClient, "http://"+addr)
	sku := list.GetProducts()[0].GetVariants()[0].GetSku()
	req := connect.NewRequest(&productv1.AdjustStockRequest{Sku: sku, Delta: 3, Reason: "restock"})
	req.Header().Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	if _, err := inv.AdjustStock(ctx, req.Msg); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("AdjustStock without the token: %v, want unauthenticated", err)
	}
	if _, err := productv1connect.NewInventoryServiceClient(http.DefaultClient, "http://"+addr,
		connect.WithInterceptors(bearer(strings.TrimSpace(string(token))))).AdjustStock(ctx, req.Msg); err != nil {
		t.Errorf("AdjustStock with the staff token: %v", err)
	}

	// The landing page and request ids.
	res, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(page, []byte("Emporium")) || res.Header.Get("X-Request-Id") == "" {
		t.Errorf("GET / = %d, request id %q", res.StatusCode, res.Header.Get("X-Request-Id"))
	}
}

func bearer(tok string) connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+tok)
			return next(ctx, req)
		}
	})
}

func TestServeProductBehindASeparateEdge(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t, "postgres", "product", product.Migrations)
	dir := t.TempDir()
	var seedOut bytes.Buffer
	if err := run(context.Background(), []string{"seed", "--database-url", dbURL, "--search-path", dir}, os.Getenv, &seedOut, io.Discard); err != nil {
		t.Fatalf("seed: %v\n%s", err, &seedOut)
	}
	if !strings.Contains(seedOut.String(), "Created 520 products") {
		t.Errorf("seed output: %s", &seedOut)
	}
	productAddr, edgeAddr := freeAddr(t), freeAddr(t)
	// Configuration through the environment, as in a container.
	start(t, productAddr, map[string]string{
		"EMPORIUM_SERVICES":     "product",
		"EMPORIUM_LISTEN":       productAddr,
		"EMPORIUM_DATABASE_URL": dbURL,
		"EMPORIUM_SEARCH_PATH":  dir,
		"EMPORIUM_STAFF_TOKEN":  "s3cret-staff-token",
		"EMPORIUM_LOG_LEVEL":    "warn",
	}, "serve")
	start(t, edgeAddr, nil, "serve", "--services", "edge", "--listen", edgeAddr, "--log-level", "warn",
		"--upstream", fmt.Sprintf("product=http://%s", productAddr), "--cors-origins", "https://shop.example.com")

	ctx := context.Background()
	for name, client := range protocolClients("http://" + edgeAddr) {
		t.Run(name, func(t *testing.T) {
			res, err := client.ListProducts(ctx, &productv1.ListProductsRequest{PageSize: 3, Category: "jackets"})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.GetProducts()) != 3 || res.GetNextPageToken() == "" {
				t.Errorf("got %d products, next %q", len(res.GetProducts()), res.GetNextPageToken())
			}
			_, err = client.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "no-such-thing"}})
			if connect.CodeOf(err) != connect.CodeNotFound {
				t.Errorf("unknown slug through the edge: %v, want not_found", err)
			}
		})
	}

	// CORS: the configured origin is allowed, others are not.
	for origin, allowed := range map[string]bool{"https://shop.example.com": true, "https://evil.example.net": false} {
		req, _ := http.NewRequest(http.MethodOptions, "http://"+edgeAddr+"/emporium.product.v1.ProductService/ListProducts", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "connect-protocol-version,content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin") == origin; got != allowed {
			t.Errorf("preflight from %s: allowed = %v, want %v", origin, got, allowed)
		}
	}

	// An oversized body is refused at the edge.
	big := strings.NewReader(`{"query":"` + strings.Repeat("a", 5<<20) + `"}`)
	res, err := http.Post("http://"+edgeAddr+"/emporium.product.v1.ProductService/SearchProducts", "application/json", big)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("5 MiB body: status %d, want 413", res.StatusCode)
	}
}

func TestServeRefusesIncompleteConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--services", "edge", "--listen", "127.0.0.1:0"}, "no upstream for product"},
		{[]string{"serve", "--services", "product", "--listen", "127.0.0.1:0"}, "--database-url is required"},
		{[]string{"serve", "--services", "payments"}, `unknown service "payments"`},
		{[]string{"serve", "--services", "edge", "--upstream", "product=ftp://x"}, "want an http:// URL"},
		{[]string{"nonsense"}, `unknown command "nonsense"`},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("emporium %v: error %v, want one saying %q", tt.args, err, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, os.Getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "emporium ") {
		t.Errorf("version output %q", out.String())
	}
}

// TestConfigReferenceListsEveryFlag keeps docs/config.md honest: every flag
// of every command, with its environment variable, must be documented.
func TestConfigReferenceListsEveryFlag(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if c.name == "version" {
			continue
		}
		var help bytes.Buffer
		err := run(context.Background(), []string{c.name, "--help"}, func(string) string { return "" }, io.Discard, &help)
		if err == nil {
			t.Fatalf("%s --help: want flag.ErrHelp", c.name)
		}
		n := 0
		for _, line := range strings.Split(help.String(), "\n") {
			var flagName, env string
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "--%s [%s", &flagName, &env); err != nil {
				continue
			}
			n++
			env = strings.TrimSuffix(env, "]")
			for _, want := range []string{"`--" + flagName + "`", "`" + env + "`"} {
				if !bytes.Contains(doc, []byte(want)) {
					t.Errorf("docs/config.md does not document %s (emporium %s)", want, c.name)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s --help listed no flags:\n%s", c.name, &help)
		}
	}
}
