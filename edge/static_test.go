package edge

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"connectrpc.com/connect"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/internal/platform/logx"
)

// products answers ListProducts with one product: a real Connect service
// behind the edge, to show the app's catch-all route never takes its calls.
type products struct {
	productv1connect.UnimplementedProductServiceHandler
}

func (products) ListProducts(context.Context, *productv1.ListProductsRequest) (*productv1.ListProductsResponse, error) {
	return &productv1.ListProductsResponse{Products: []*productv1.Product{{Slug: "linen-apron"}}}, nil
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestStaticServesTheAppBesideTheServices(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const index = `<!doctype html><div id="root"></div><script type="module" src="/assets/index-B2x9.js"></script>`
	const script = `console.log("shop")`
	writeFiles(t, dir, map[string]string{
		"index.html":              index,
		"assets/index-B2x9.js":    script,
		"assets/index-B2x9.js.gz": gzipped(t, script),
		"assets/index-C7k1.css":   `body{margin:0}`,
		"favicon.svg":             `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	})
	app, err := Static(dir)
	if err != nil {
		t.Fatal(err)
	}
	rpcPath, rpc := productv1connect.NewProductServiceHandler(products{})
	mailbox := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "mailbox") })
	h, err := New(context.Background(), Config{
		Routes: []Route{
			{Prefix: rpcPath, Handler: rpc},
			{Prefix: "/dev/", Handler: mailbox},
			{Prefix: "/", Handler: app},
		},
		Services: []string{productv1connect.ProductServiceName},
		Log:      logx.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h) // a real listener on loopback
	t.Cleanup(srv.Close)

	// The RPC goes to the service, over Connect JSON, as the app's SDK sends it.
	client := productv1connect.NewProductServiceClient(srv.Client(), srv.URL, connect.WithProtoJSON())
	res, err := client.ListProducts(context.Background(), &productv1.ListProductsRequest{})
	if err != nil || len(res.GetProducts()) != 1 || res.GetProducts()[0].GetSlug() != "linen-apron" {
		t.Fatalf("ListProducts through the edge = %v, %v", res, err)
	}

	plain := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	tests := []struct {
		name, method, path, acceptEncoding string
		wantStatus                         int
		wantBody                           string // a substring; "" skips
		wantCache, wantEncoding            string
	}{
		{name: "root is the app", method: "GET", path: "/", wantStatus: 200, wantBody: index, wantCache: "no-cache"},
		{name: "an app route falls back to the app", method: "GET", path: "/products/linen-apron", wantStatus: 200, wantBody: index, wantCache: "no-cache"},
		{name: "a deep route with a query", method: "GET", path: "/reset-password?token=abc", wantStatus: 200, wantBody: index, wantCache: "no-cache"},
		{name: "HEAD of a route", method: "HEAD", path: "/account", wantStatus: 200, wantCache: "no-cache"},
		{name: "a hashed asset is immutable", method: "GET", path: "/assets/index-C7k1.css", wantStatus: 200, wantBody: "body{margin:0}",
			wantCache: "public, max-age=31536000, immutable"},
		{name: "gzip twin for clients that take it", method: "GET", path: "/assets/index-B2x9.js", acceptEncoding: "gzip, br",
			wantStatus: 200, wantCache: "public, max-age=31536000, immutable", wantEncoding: "gzip"},
		{name: "plain asset for clients that do not", method: "GET", path: "/assets/index-B2x9.js", wantStatus: 200, wantBody: script,
			wantCache: "public, max-age=31536000, immutable"},
		{name: "a top-level file is revalidated", method: "GET", path: "/favicon.svg", wantStatus: 200, wantBody: "<svg", wantCache: "no-cache"},
		{name: "a missing asset is a 404, not HTML", method: "GET", path: "/assets/index-OLD1.js", wantStatus: 404},
		{name: "gzip twins are not served by name", method: "GET", path: "/assets/index-B2x9.js.gz", wantStatus: 404},
		{name: "an unknown RPC is not the app", method: "POST", path: "/emporium.user.v1.UserService/GetMe", wantStatus: 404},
		{name: "a GET of an unknown RPC path is not the app", method: "GET", path: "/emporium.shipping.v1.ShippingService/QuoteRates", wantStatus: 404},
		{name: "the mailbox route still answers", method: "GET", path: "/dev/mailbox", wantStatus: 200, wantBody: "mailbox"},
		{name: "payment simulator paths are never the app", method: "GET", path: "/payment-simulator/3ds", wantStatus: 404},
		{name: "webhooks are never the app", method: "POST", path: "/webhooks/payments", wantStatus: 404},
		{name: "well-known paths are never the app", method: "GET", path: "/.well-known/openid-configuration", wantStatus: 404},
		{name: "health is the edge's", method: "GET", path: "/healthz", wantStatus: 200, wantBody: "ok"},
		{name: "other methods are refused", method: "POST", path: "/cart", wantStatus: 405},
		{name: "no escape from the directory", method: "GET", path: "/../../etc/passwd", wantStatus: 200, wantBody: index},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tc.acceptEncoding)
			}
			res, err := plain.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("%s %s = %d, want %d: %.200s", tc.method, tc.path, res.StatusCode, tc.wantStatus, body)
			}
			if tc.wantBody != "" && !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("%s %s body = %.200q, want it to contain %.80q", tc.method, tc.path, body, tc.wantBody)
			}
			if got := res.Header.Get("Cache-Control"); tc.wantCache != "" && got != tc.wantCache {
				t.Errorf("%s %s Cache-Control = %q, want %q", tc.method, tc.path, got, tc.wantCache)
			}
			if got := res.Header.Get("Content-Encoding"); got != tc.wantEncoding {
				t.Errorf("%s %s Content-Encoding = %q, want %q", tc.method, tc.path, got, tc.wantEncoding)
			}
			if tc.wantEncoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				plainBody, _ := io.ReadAll(zr)
				if string(plainBody) != script {
					t.Errorf("gunzipped body = %q, want %q", plainBody, script)
				}
			}
			if res.StatusCode == 200 && strings.Contains(string(body), "<!doctype html>") &&
				res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("%s %s Content-Type = %q", tc.method, tc.path, res.Header.Get("Content-Type"))
			}
		})
	}
}

func TestStaticNeedsABuiltApp(t *testing.T) {
	t.Parallel()
	if _, err := Static(t.TempDir()); err == nil || !strings.Contains(err.Error(), "web-build") {
		t.Errorf("Static(empty dir) = %v, want an error saying how to build the app", err)
	}
}

func TestStaticAdminServesThePanelUnderAdmin(t *testing.T) {
	t.Parallel()
	shopDir, adminDir := t.TempDir(), t.TempDir()
	const shopIndex = `<!doctype html><title>shop</title>`
	const adminIndex = `<!doctype html><title>admin</title><script type="module" src="/admin/assets/index-A1b2.js"></script>`
	const script = `console.log("admin")`
	writeFiles(t, shopDir, map[string]string{"index.html": shopIndex})
	writeFiles(t, adminDir, map[string]string{
		"index.html":              adminIndex,
		"assets/index-A1b2.js":    script,
		"assets/index-A1b2.js.gz": gzipped(t, script),
		"favicon.svg":             `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	})
	shop, err := Static(shopDir)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := StaticAdmin(adminDir)
	if err != nil {
		t.Fatal(err)
	}
	rpcPath, rpc := productv1connect.NewProductServiceHandler(products{})
	h, err := New(context.Background(), Config{
		Routes: []Route{
			{Prefix: rpcPath, Handler: rpc},
			{Prefix: "/", Handler: shop},
			{Prefix: AdminPrefix, Handler: admin},
		},
		Services: []string{productv1connect.ProductServiceName},
		Log:      logx.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	client := productv1connect.NewProductServiceClient(srv.Client(), srv.URL, connect.WithProtoJSON())
	if res, err := client.ListProducts(context.Background(), &productv1.ListProductsRequest{}); err != nil || len(res.GetProducts()) != 1 {
		t.Fatalf("ListProducts beside the admin panel = %v, %v", res, err)
	}

	plain := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	immutable := "public, max-age=31536000, immutable"
	tests := []struct {
		name, method, path, acceptEncoding string
		wantStatus                         int
		wantBody, wantCache, wantEncoding  string
		wantLocation                       string
	}{
		{name: "the panel's root", method: "GET", path: "/admin/", wantStatus: 200, wantBody: adminIndex, wantCache: "no-cache"},
		{name: "/admin redirects to the panel", method: "GET", path: "/admin", wantStatus: http.StatusTemporaryRedirect, wantLocation: "/admin/"},
		{name: "a panel route falls back to the panel", method: "GET", path: "/admin/orders/o_123", wantStatus: 200, wantBody: adminIndex, wantCache: "no-cache"},
		{name: "a hashed asset is immutable", method: "GET", path: "/admin/assets/index-A1b2.js", wantStatus: 200, wantBody: script, wantCache: immutable},
		{name: "its gzip twin", method: "GET", path: "/admin/assets/index-A1b2.js", acceptEncoding: "gzip", wantStatus: 200, wantCache: immutable, wantEncoding: "gzip"},
		{name: "a top-level file is revalidated", method: "GET", path: "/admin/favicon.svg", wantStatus: 200, wantBody: "<svg", wantCache: "no-cache"},
		{name: "a missing asset is a 404", method: "GET", path: "/admin/assets/index-OLD.js", wantStatus: 404},
		{name: "gzip twins are not served by name", method: "GET", path: "/admin/assets/index-A1b2.js.gz", wantStatus: 404},
		{name: "the shop keeps /", method: "GET", path: "/", wantStatus: 200, wantBody: shopIndex},
		{name: "the shop keeps its routes", method: "GET", path: "/administration-tips", wantStatus: 200, wantBody: shopIndex},
		{name: "dot-dot out of the panel is sent to the clean path", method: "GET", path: "/admin/../cart", wantStatus: http.StatusTemporaryRedirect, wantLocation: "/cart"},
		{name: "panel files are not the shop's", method: "GET", path: "/assets/index-A1b2.js", wantStatus: 404},
		{name: "an RPC is never the panel", method: "POST", path: "/emporium.user.v1.UserService/GetMe", wantStatus: 404},
		{name: "other methods are refused", method: "POST", path: "/admin/orders", wantStatus: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = tc.path // keep /admin/../cart as it is sent by a client that does not clean paths
			if tc.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tc.acceptEncoding)
			}
			res, err := plain.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("%s %s = %d, want %d: %.200s", tc.method, tc.path, res.StatusCode, tc.wantStatus, body)
			}
			if tc.wantBody != "" && !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("%s %s body = %.200q, want it to contain %.80q", tc.method, tc.path, body, tc.wantBody)
			}
			if got := res.Header.Get("Cache-Control"); tc.wantCache != "" && got != tc.wantCache {
				t.Errorf("%s %s Cache-Control = %q, want %q", tc.method, tc.path, got, tc.wantCache)
			}
			if got := res.Header.Get("Content-Encoding"); got != tc.wantEncoding {
				t.Errorf("%s %s Content-Encoding = %q, want %q", tc.method, tc.path, got, tc.wantEncoding)
			}
			if got := res.Header.Get("Location"); got != tc.wantLocation {
				t.Errorf("%s %s Location = %q, want %q", tc.method, tc.path, got, tc.wantLocation)
			}
			if body := string(body); body == adminIndex {
				csp := res.Header.Get("Content-Security-Policy")
				if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "stripe") {
					t.Errorf("the panel's CSP = %q, want its own origin's scripts only", csp)
				}
			}
		})
	}
}

func TestStaticAdminNeedsABuiltPanel(t *testing.T) {
	t.Parallel()
	if _, err := StaticAdmin(t.TempDir()); err == nil || !strings.Contains(err.Error(), "admin-build") {
		t.Errorf("StaticAdmin(empty dir) = %v, want an error saying how to build the panel", err)
	}
}
